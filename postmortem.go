package tocsin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PostmortemStatus is where a post-mortem stands: a draft is written and
// edited; an approved one awaits publication with the exact text an
// approver read; a published one is on the public site for good.
type PostmortemStatus string

const (
	PostmortemDraft     PostmortemStatus = "draft"
	PostmortemApproved  PostmortemStatus = "approved"
	PostmortemPublished PostmortemStatus = "published"
)

// Postmortem is the account of one public incident written after it:
// what happened, when, why, and what changes. Its Markdown sections are
// rendered like updates. It reaches the public only once an approver who
// did not write any of it has approved its current text and a
// communicator has published it.
type Postmortem struct {
	IncidentID int64
	Summary    string // Markdown, required
	Timeline   []TimelineEntry
	Impact     string // Markdown
	RootCause  string // Markdown
	WentWell   string // Markdown: what went well
	Changes    string // Markdown: what we change
	Status     PostmortemStatus
	// Revision counts the saved versions of the text (1 for the first);
	// an approval names the revision it approves.
	Revision int
	// Contributors wrote or edited the text, in order of first
	// contribution: none of them may approve it.
	Contributors []Contributor
	ApprovedBy   string // actor label, "" unless approved or published
	ApprovedAt   *time.Time
	PublishedBy  string
	PublishedAt  *time.Time
	// PublishedSHA256 is Digest of the text as published (hex), "" before.
	PublishedSHA256 string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TimelineEntry is one dated line of a post-mortem's timeline.
type TimelineEntry struct {
	At   time.Time
	Text string // Markdown, one paragraph
}

// Contributor is someone who wrote or edited a post-mortem. Key names them
// for the approval rule ("user:3", "token:7"), Label for people.
type Contributor struct {
	Key   string
	Label string
}

// ActorKey names who acts for the rule that an author does not approve
// their own text: a user by ID, an API token by ID (a token is not linked
// to a person, so an admin who gives one the approver role vouches for
// it), anyone else by label.
func ActorKey(a Actor) string {
	switch {
	case a.UserID != 0:
		return fmt.Sprintf("user:%d", a.UserID)
	case a.TokenID != 0:
		return fmt.Sprintf("token:%d", a.TokenID)
	}
	return "label:" + a.Label
}

// Limits of a post-mortem: each Markdown section as an update's body; the
// timeline in lines short enough to read at a glance.
const (
	MaxTimelineEntries   = 200
	MaxTimelineEntryText = 2000 // bytes
)

// Published reports whether the public sees the post-mortem.
func (p *Postmortem) Published() bool { return p.Status == PostmortemPublished }

// sections lists the Markdown sections with the i18n key of their name.
func (p *Postmortem) sections() []struct {
	key  string
	body *string
} {
	return []struct {
		key  string
		body *string
	}{
		{"postmortems.summary", &p.Summary}, {"postmortems.impact", &p.Impact}, {"postmortems.root_cause", &p.RootCause},
		{"postmortems.went_well", &p.WentWell}, {"postmortems.changes", &p.Changes},
	}
}

// Validate checks the text of a post-mortem written at now, trims it (an
// entry of the timeline to one line, its time to the second) and sorts its
// timeline by time (stably: entries of the same minute keep the
// order they were written in).
func (p *Postmortem) Validate(now time.Time) error {
	for _, s := range p.sections() {
		*s.body = strings.TrimSpace(*s.body)
		if len(*s.body) > MaxUpdateBytes {
			return Errorf(EINVALID, "a section of the post-mortem is over %d bytes", MaxUpdateBytes).
				WithKey("postmortems.section_too_long", MaxUpdateBytes)
		}
	}
	if p.Summary == "" {
		return Errorf(EINVALID, "a post-mortem needs a summary").WithKey("postmortems.summary_empty")
	}
	if len(p.Timeline) > MaxTimelineEntries {
		return Errorf(EINVALID, "the timeline has %d entries; at most %d", len(p.Timeline), MaxTimelineEntries).
			WithKey("postmortems.timeline_too_long", len(p.Timeline), MaxTimelineEntries)
	}
	for i := range p.Timeline {
		e := &p.Timeline[i]
		// One line: the console edits the timeline a line per entry.
		e.Text = strings.Join(strings.Fields(e.Text), " ")
		switch {
		case e.At.IsZero():
			return Errorf(EINVALID, "timeline entry %d has no time", i+1).WithKey("postmortems.timeline_no_time", i+1)
		case e.Text == "":
			return Errorf(EINVALID, "timeline entry %d has no text", i+1).WithKey("postmortems.timeline_no_text", i+1)
		case len(e.Text) > MaxTimelineEntryText:
			return Errorf(EINVALID, "timeline entry %d is over %d bytes", i+1, MaxTimelineEntryText).
				WithKey("postmortems.timeline_text_too_long", i+1, MaxTimelineEntryText)
		case e.At.After(now.Add(time.Minute)):
			return Errorf(EINVALID, "timeline entry %d is dated in the future", i+1).WithKey("postmortems.timeline_future", i+1)
		}
		e.At = e.At.UTC().Truncate(time.Second)
	}
	slices.SortStableFunc(p.Timeline, func(a, b TimelineEntry) int { return a.At.Compare(b.At) })
	return nil
}

// SameText reports whether p and q say the same thing, section by section
// and line by line; an edit that changes nothing is not an edit.
func (p *Postmortem) SameText(q *Postmortem) bool {
	return p.Summary == q.Summary && p.Impact == q.Impact && p.RootCause == q.RootCause && p.WentWell == q.WentWell &&
		p.Changes == q.Changes && slices.EqualFunc(p.Timeline, q.Timeline, func(a, b TimelineEntry) bool {
		return a.At.Equal(b.At) && a.Text == b.Text
	})
}

// ContributedBy reports whether the actor with this key wrote or edited p.
func (p *Postmortem) ContributedBy(key string) bool {
	return slices.ContainsFunc(p.Contributors, func(c Contributor) bool { return c.Key == key })
}

// CheckEdit says whether p's text may still change: a published
// post-mortem is final (a correction is an incident update of status
// postmortem), so that what the public read is what was approved.
func (p *Postmortem) CheckEdit() error {
	if p.Published() {
		return Errorf(ECONFLICT, "this post-mortem is published: its text is final; add an update to the incident to correct it").
			WithKey("postmortems.published_final")
	}
	return nil
}

// CheckApprove says whether the actor with this key and these roles may
// approve revision of p: an approver who neither wrote nor edited it,
// approving the text as it stands now.
func (p *Postmortem) CheckApprove(key string, roles Roles, revision int) error {
	switch {
	case !roles.Allows(RoleApprover):
		return Errorf(EFORBIDDEN, "only an approver may approve a post-mortem").WithKey("postmortems.not_approver")
	case p.ContributedBy(key):
		return Errorf(EFORBIDDEN, "you wrote or edited this post-mortem: another approver must approve it").
			WithKey("postmortems.own_text")
	case p.Published():
		return Errorf(ECONFLICT, "this post-mortem is already published").WithKey("postmortems.already_published")
	case p.Status == PostmortemApproved:
		return Errorf(ECONFLICT, "this post-mortem is already approved").WithKey("postmortems.already_approved")
	case revision != p.Revision:
		return Errorf(ECONFLICT, "the post-mortem changed since you read it (version %d, now %d): read it again before approving", revision, p.Revision).
			WithKey("postmortems.stale", revision, p.Revision)
	}
	return nil
}

// CheckPublish says whether p may be published now that its incident is
// inc: its current text must be approved, and the incident public and over.
func (p *Postmortem) CheckPublish(inc *Incident) error {
	switch {
	case p.Published():
		return Errorf(ECONFLICT, "this post-mortem is already published").WithKey("postmortems.already_published")
	case p.Status != PostmortemApproved:
		return Errorf(ECONFLICT, "this post-mortem's current text is not approved: an approver who did not write it must approve it first").
			WithKey("postmortems.not_approved")
	case !inc.Published():
		return Errorf(ECONFLICT, "the incident is a draft: publish it first").WithKey("postmortems.incident_draft")
	case !inc.Status.Closed():
		return Errorf(ECONFLICT, "the incident is still open: resolve it first").WithKey("postmortems.incident_open")
	case inc.Maintenance():
		// Its status would become postmortem, which a maintenance has not.
		return Errorf(ECONFLICT, "a scheduled maintenance has no post-mortem: declare an incident for what went wrong").WithKey("postmortems.maintenance")
	}
	return nil
}

// PostmortemService stores post-mortems. Every mutation writes its audit
// entry, and any message it causes, in one transaction.
type PostmortemService interface {
	// Postmortem returns incident incidentID's post-mortem; ENOTFOUND if
	// it has none (or there is no such incident).
	Postmortem(ctx context.Context, incidentID int64) (*Postmortem, error)
	// PublishedPostmortems returns the published post-mortems, most
	// recently published first.
	PublishedPostmortems(ctx context.Context) ([]*Postmortem, error)
	// SavePostmortem writes p's text as a new revision (creating the
	// post-mortem if the incident has none) and records a as a
	// contributor; an approved post-mortem goes back to draft, its
	// approval withdrawn. An unchanged text writes nothing. ECONFLICT once
	// published. p is then filled from the store.
	SavePostmortem(ctx context.Context, a Actor, p *Postmortem) error
	// ApprovePostmortem approves revision of the post-mortem for a, who
	// holds roles (see CheckApprove).
	ApprovePostmortem(ctx context.Context, a Actor, roles Roles, incidentID int64, revision int) error
	// PublishPostmortem publishes an approved post-mortem (see
	// CheckPublish) and sets its incident's status to postmortem.
	PublishPostmortem(ctx context.Context, a Actor, incidentID int64, msgs []*Message) error
}
