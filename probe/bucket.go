package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tocsin-org/tocsin"
)

// bucketTarget is one URL through which a bucket is served.
type bucketTarget struct {
	style string // path, virtual-host, alias
	list  string // the unsigned list request
}

// bucketTargets lists every URL to probe: the check's URL, both addressing
// styles of endpoint+bucket, and every alias, each once.
func bucketTargets(s tocsin.CheckSpec) ([]bucketTarget, error) {
	var out []bucketTarget
	seen := map[string]bool{}
	// add adds the list request of a bucket URL (or, for GCS with
	// jsonBucket, of the JSON API at that endpoint).
	add := func(base, style, jsonBucket string) error {
		list, err := listURL(s.Provider, base, jsonBucket)
		if err != nil {
			return err
		}
		if !seen[list] {
			seen[list] = true
			out = append(out, bucketTarget{style: style, list: list})
		}
		return nil
	}
	if s.URL != "" {
		u, err := url.Parse(s.URL)
		if err != nil || u.Host == "" {
			return nil, errorf("url %q is not a URL with a host", s.URL)
		}
		style := "virtual-host"
		if strings.Trim(u.Path, "/") != "" {
			style = "path"
		}
		if err := add(s.URL, style, ""); err != nil {
			return nil, err
		}
	}
	if s.Endpoint != "" && s.Bucket != "" {
		e, err := url.Parse(s.Endpoint)
		if err != nil || e.Host == "" {
			return nil, errorf("endpoint %q is not a URL with a host", s.Endpoint)
		}
		if s.Provider == "gcs" {
			// GCS's endpoint form is its JSON API's object list.
			if err := add(s.Endpoint, "path", s.Bucket); err != nil {
				return nil, err
			}
		} else if err := add(strings.TrimSuffix(s.Endpoint, "/")+"/"+s.Bucket, "path", ""); err != nil {
			return nil, err
		}
		// Virtual-host style needs a name under which the bucket can be a
		// label; an IP-address endpoint has none (S3 clients fall back to
		// path style there too).
		if net.ParseIP(e.Hostname()) == nil && s.Provider != "gcs" {
			v := *e
			v.Host = s.Bucket + "." + e.Host
			v.Path = strings.TrimSuffix(e.Path, "/")
			v.RawPath = ""
			if err := add(v.String(), "virtual-host", ""); err != nil {
				return nil, err
			}
		}
	}
	for _, a := range s.Aliases {
		if err := add(a, "alias", ""); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, errorf("the check names no bucket URL: give url, or endpoint and bucket")
	}
	return out, nil
}

// listURL is the unsigned list request for a bucket URL; for GCS with
// jsonBucket set, base is the endpoint and the request is the JSON API's.
func listURL(provider, base, jsonBucket string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", errorf("%q is not a URL with a host", base)
	}
	var q string
	switch provider {
	case "azure":
		q = "restype=container&comp=list&maxresults=1"
	case "gcs":
		if jsonBucket != "" {
			u.Path = "/storage/v1/b/" + url.PathEscape(jsonBucket) + "/o"
			u.RawPath = ""
			u.RawQuery = "maxResults=1"
			return u.String(), nil
		}
		// Otherwise the XML API, which answers ListBucketResult as S3 does.
		fallthrough
	default:
		q = "list-type=2&max-keys=1"
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
			if u.RawPath != "" {
				u.RawPath += "/"
			}
		}
	}
	if u.RawQuery != "" {
		q = u.RawQuery + "&" + q
	}
	u.RawQuery = q
	u.Fragment = ""
	return u.String(), nil
}

func (p *Prober) runBucket(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	spec := c.Spec
	if spec.Provider == "" {
		spec.Provider = "s3"
	}
	targets, err := bucketTargets(spec)
	if err != nil {
		return err
	}
	client := p.bucketClient()
	defer client.CloseIdleConnections()

	obs := &tocsin.BucketObservation{Probed: make([]tocsin.BucketProbe, len(targets))}
	r.Bucket = obs
	listing, failed := make([]bool, len(targets)), make([]bool, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obs.Probed[i], listing[i], errs[i] = p.probeListing(ctx, client, t)
			failed[i] = errs[i] != nil
		}()
	}
	wg.Wait()
	allFailed := true
	for i, pr := range obs.Probed {
		if listing[i] {
			obs.Listable = append(obs.Listable, pr.URL)
		}
		allFailed = allFailed && failed[i]
	}

	if spec.AccessKeyID != "" && spec.SecretKeyEnv != "" {
		p.readPolicy(ctx, client, spec, obs)
	}
	if allFailed {
		err := errorf("%s", obs.Probed[0].Answer)
		if len(targets) > 1 {
			err = errorf("no bucket URL answered (%d tried); first: %s", len(targets), obs.Probed[0].Answer)
		}
		// A timeout is worded by the run, which names where it stalled.
		var pe *phaseError
		if errors.As(errs[0], &pe) && timedOut(ctx, errs[0]) {
			return inPhase(pe.phase, err)
		}
		return err
	}
	return nil
}

// probeListing sends one unsigned list request. listing reports that it
// answered with a listing; err that no HTTP answer came at all.
func (p *Prober) probeListing(ctx context.Context, client *http.Client, t bucketTarget) (pr tocsin.BucketProbe, listing bool, err error) {
	pr = tocsin.BucketProbe{URL: t.list, Style: t.style}
	resp, body, truncated, err := p.bucketGet(ctx, client, t.list, nil)
	if resp == nil {
		pr.Answer = networkWords(ctx, err)
		return pr, false, err
	}
	pr.Status = resp.StatusCode
	if err != nil {
		pr.Answer = "the answer broke off: " + networkWords(ctx, err)
		return pr, false, nil
	}
	a := DetectListing(resp.StatusCode, resp.Header.Get("Content-Type"), body, truncated)
	pr.Answer = a.Answer
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if loc := resp.Header.Get("Location"); loc != "" {
			pr.Answer = fmt.Sprintf("redirect (%d) to %s, not followed; list that URL as an alias if it serves the bucket", resp.StatusCode, clip(loc, 120))
		}
	}
	return pr, a.Listing, nil
}

// bucketGet sends GET u (signed when key is set) and reads at most
// BodyLimit bytes of the answer. resp is nil when no answer came.
func (p *Prober) bucketGet(ctx context.Context, client *http.Client, u string, key *SigV4Key) (resp *http.Response, body []byte, truncated bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, false, err
	}
	req.Header.Set("User-Agent", p.UserAgent)
	if key != nil {
		now := time.Now
		if p.Now != nil {
			now = p.Now
		}
		SignV4(req, nil, *key, now())
	}
	// Until a connection is had, a failure is the name's or the
	// connection's, which the words and the run's timeout name.
	var (
		mu        sync.Mutex
		phase     string
		connected bool
	)
	set := func(ph string, conn bool) { mu.Lock(); phase, connected = ph, conn; mu.Unlock() }
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		DNSStart:     func(httptrace.DNSStartInfo) { set(phaseResolve, false) },
		ConnectStart: func(string, string) { set(phaseConnect, false) },
		GotConn:      func(httptrace.GotConnInfo) { set("", true) },
	}))
	resp, err = client.Do(req)
	if err != nil {
		mu.Lock()
		defer mu.Unlock()
		if !connected && phase != "" {
			err = inPhase(phase, err)
		}
		return nil, nil, false, err
	}
	defer resp.Body.Close()
	limit := p.BodyLimit
	if limit <= 0 {
		limit = tocsin.DefaultBodyLimit
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if int64(len(body)) > limit {
		body, truncated = body[:limit], true
	}
	return resp, body, truncated, err
}

// readPolicy reads the bucket's policy and ACL with the check's admin
// credentials and explains every grant to anyone. The secret is read here
// and goes nowhere but the signature.
func (p *Prober) readPolicy(ctx context.Context, client *http.Client, spec tocsin.CheckSpec, obs *tocsin.BucketObservation) {
	if spec.Provider != "s3" {
		obs.PolicyError = "policies and ACLs are read for S3 buckets only"
		return
	}
	getenv := p.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	secret := getenv(spec.SecretKeyEnv)
	if secret == "" {
		obs.PolicyError = fmt.Sprintf("the environment variable %s (secret_key_env) is empty or unset, so the policy was not read", spec.SecretKeyEnv)
		return
	}
	key := &SigV4Key{AccessKeyID: spec.AccessKeyID, Secret: secret, Region: spec.Region}
	base := spec.URL
	if spec.Endpoint != "" && spec.Bucket != "" {
		base = strings.TrimSuffix(spec.Endpoint, "/") + "/" + spec.Bucket
	}
	var problems []string
	for _, sub := range []string{"policy", "acl"} {
		u, err := url.Parse(base)
		if err != nil {
			problems = append(problems, err.Error())
			break
		}
		// The bucket's own subresource: /media?policy, not /media/?policy.
		if len(u.Path) > 1 {
			u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), ""
		}
		u.RawQuery, u.Fragment = sub, ""
		resp, body, truncated, err := p.bucketGet(ctx, client, u.String(), key)
		var grants []string
		switch {
		case resp == nil:
			err = errors.New(networkWords(ctx, err))
		case err != nil:
			err = errors.New("the answer broke off: " + networkWords(ctx, err))
		case sub == "policy" && resp.StatusCode == http.StatusNotFound && strings.Contains(errorCode(body), "NoSuchBucketPolicy"):
			// No policy: nothing granted by one.
		case resp.StatusCode != http.StatusOK:
			err = fmt.Errorf("HTTP %d%s", resp.StatusCode, errorCode(body))
		case truncated:
			err = errors.New("the answer is longer than the read limit")
		case sub == "policy":
			grants, err = ExplainPolicy(body)
		default:
			grants, err = ExplainACL(body)
		}
		if err != nil {
			problems = append(problems, sub+": "+err.Error())
		}
		obs.Grants = append(obs.Grants, grants...)
	}
	obs.PolicyError = strings.Join(problems, "; ")
}

// bucketClient is an HTTP client that follows no redirect (a redirect is
// an answer, said as such), uses no proxy from the environment, and dials
// through Prober.dial (metadata and link-local addresses refused).
func (p *Prober) bucketClient() *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         p.dial,
		TLSHandshakeTimeout: 30 * time.Second,
		MaxIdleConnsPerHost: 2,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// networkWords says why no (complete) answer came, in words.
func networkWords(ctx context.Context, err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var refused *refusedError
	var pe *phaseError
	switch {
	case err == nil:
		return "no answer"
	case timedOut(ctx, err) && errors.As(err, &pe) && pe.phase == phaseConnect:
		return "no connection within the timeout: nothing answered at that address"
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return "no complete answer within the timeout"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("the host %s does not resolve (no such name)", clip(dnsErr.Name, 120))
		}
		return fmt.Sprintf("the host %s could not be resolved: %s", clip(dnsErr.Name, 120), clip(dnsErr.Err, 120))
	case errors.As(err, &refused):
		return refused.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the server"
	case errors.As(err, &certErr):
		return "the certificate did not verify: " + clip(certErr.Err.Error(), 120)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "no complete answer within the timeout"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the server closed the connection without a complete answer"
	}
	return clip(unwrapURL(err).Error(), 120)
}
