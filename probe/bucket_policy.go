package probe

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"path"
	"sort"
	"strings"
)

// anonymous capabilities, in the order they are told.
var capabilities = []struct {
	words   string
	actions []string
}{
	{"list the bucket", []string{"s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"}},
	{"read objects", []string{"s3:GetObject", "s3:GetObjectVersion"}},
	{"write and delete objects", []string{"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:AbortMultipartUpload"}},
	{"change the bucket's policy, ACL or settings", []string{"s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:DeleteBucket", "s3:PutBucketPublicAccessBlock"}},
}

// ExplainPolicy reads an S3 bucket policy and says, in plain words, each
// Allow statement that lets anyone (Principal "*" or {"AWS": "*"}, or a
// NotPrincipal) list, read, write or administer the bucket. A document
// that is not a policy is an error; it never panics.
func ExplainPolicy(doc []byte) ([]string, error) {
	var p struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(doc, &p); err != nil {
		return nil, fmt.Errorf("the policy is not valid JSON: %s", clip(err.Error(), 120))
	}
	var stmts []json.RawMessage
	switch s := bytes.TrimSpace(p.Statement); {
	case len(s) == 0 || string(s) == "null":
		return nil, nil
	case s[0] == '{':
		stmts = []json.RawMessage{s}
	default:
		if err := json.Unmarshal(s, &stmts); err != nil {
			return nil, fmt.Errorf("the policy's Statement is neither a statement nor a list of them")
		}
	}
	var out []string
	for i, raw := range stmts {
		if line := explainStatement(i+1, raw); line != "" {
			out = append(out, line)
		}
	}
	return out, nil
}

type statement struct {
	Sid          any             `json:"Sid"`
	Effect       string          `json:"Effect"`
	Principal    json.RawMessage `json:"Principal"`
	NotPrincipal json.RawMessage `json:"NotPrincipal"`
	Action       json.RawMessage `json:"Action"`
	NotAction    json.RawMessage `json:"NotAction"`
	Resource     json.RawMessage `json:"Resource"`
	Condition    map[string]map[string]json.RawMessage
}

// explainStatement returns the sentence for statement number n, or "" when
// it grants nothing to anyone.
func explainStatement(n int, raw json.RawMessage) string {
	var s statement
	if json.Unmarshal(raw, &s) != nil || !strings.EqualFold(s.Effect, "Allow") {
		return ""
	}
	name := fmt.Sprintf("policy statement %d", n)
	if sid, ok := s.Sid.(string); ok && sid != "" {
		name = fmt.Sprintf("policy statement %q", clip(sid, 120))
	}
	var who string
	switch {
	case len(s.NotPrincipal) > 0:
		who = "everyone except the principals it names, anonymous callers included (NotPrincipal " + clip(compactJSON(s.NotPrincipal), 120) + ")"
	case principalIsAnyone(s.Principal):
		who = "anyone (Principal " + clip(compactJSON(s.Principal), 120) + ")"
	default:
		return ""
	}
	var grants []string
	if len(s.NotAction) > 0 {
		excluded := stringList(s.NotAction)
		for _, c := range capabilities {
			var hit []string
			for _, a := range c.actions {
				if !matchesAny(excluded, a) {
					hit = append(hit, a)
				}
			}
			if len(hit) > 0 {
				grants = append(grants, c.words+" ("+strings.Join(hit, ", ")+")")
			}
		}
		if len(grants) > 0 {
			grants[len(grants)-1] += " — every action except " + clip(strings.Join(excluded, ", "), 120) + " (NotAction)"
		}
	} else {
		patterns := stringList(s.Action)
		for _, c := range capabilities {
			var via []string
			for _, pat := range patterns {
				for _, a := range c.actions {
					if actionMatch(pat, a) {
						via = append(via, pat)
						break
					}
				}
			}
			if len(via) > 0 {
				grants = append(grants, c.words+" ("+clip(strings.Join(via, ", "), 120)+")")
			}
		}
	}
	if len(grants) == 0 {
		return ""
	}
	res := stringList(s.Resource)
	where := "in " + clip(strings.Join(res, ", "), 120)
	if len(res) == 0 {
		where = "(no Resource named)"
	}
	line := name + " lets " + who + " " + joinWords(grants) + " " + where
	if len(s.Condition) > 0 {
		var keys []string
		for _, m := range s.Condition {
			for k := range m {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		line += ", when its conditions hold (" + clip(strings.Join(keys, ", "), 120) + ")"
	}
	return line
}

// principalIsAnyone: "*", {"AWS": "*"} or {"AWS": [..., "*", ...]}.
func principalIsAnyone(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for k, v := range m {
		if strings.EqualFold(k, "AWS") && matchesAny(stringList(v), "*") {
			return true
		}
	}
	return false
}

// stringList reads a JSON string or list of strings; anything else is empty.
func stringList(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var list []any
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func matchesAny(list []string, s string) bool {
	for _, v := range list {
		if v == s || actionMatch(v, s) {
			return true
		}
	}
	return false
}

// actionMatch matches an IAM action pattern ("s3:Get*", "*", "s3:?etObject")
// against an action, case-insensitively as IAM does.
func actionMatch(pattern, action string) bool {
	// path.Match's only other metacharacters are [ and \; IAM has neither.
	p := strings.NewReplacer("[", "\\[", "\\", "\\\\").Replace(strings.ToLower(pattern))
	ok, err := path.Match(p, strings.ToLower(action))
	return err == nil && ok
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// joinWords joins "a", "b" and "c" as "a, b and c".
func joinWords(w []string) string {
	if len(w) <= 1 {
		return strings.Join(w, "")
	}
	return strings.Join(w[:len(w)-1], ", ") + " and " + w[len(w)-1]
}

// ACL groups that stand for anyone.
const (
	allUsersURI  = "http://acs.amazonaws.com/groups/global/AllUsers"
	authUsersURI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
)

var aclWords = map[string]string{
	"READ":         "list the bucket",
	"WRITE":        "create, overwrite and delete objects",
	"READ_ACP":     "read the bucket's ACL",
	"WRITE_ACP":    "change the bucket's ACL",
	"FULL_CONTROL": "list the bucket, write objects and change the ACL",
}

// ExplainACL reads an S3 AccessControlPolicy document and says each grant
// to AllUsers or AuthenticatedUsers, e.g. "ACL grant to AllUsers: READ
// (list the bucket)". It never panics.
func ExplainACL(doc []byte) ([]string, error) {
	var acl struct {
		XMLName xml.Name
		Grants  []struct {
			Grantee struct {
				Type string `xml:"type,attr"`
				URI  string `xml:"URI"`
				ID   string `xml:"ID"`
			} `xml:"Grantee"`
			Permission string `xml:"Permission"`
		} `xml:"AccessControlList>Grant"`
	}
	if err := xml.Unmarshal(doc, &acl); err != nil {
		return nil, fmt.Errorf("the ACL is not valid XML: %s", clip(err.Error(), 120))
	}
	if acl.XMLName.Local != "AccessControlPolicy" {
		return nil, fmt.Errorf("the ACL answer is <%s>, not an AccessControlPolicy", clip(acl.XMLName.Local, 120))
	}
	var out []string
	for _, g := range acl.Grants {
		var who string
		uri := strings.TrimSpace(g.Grantee.URI)
		if g.Grantee.Type == "Group" && uri == "" && strings.TrimSpace(g.Grantee.ID) == "all-users" {
			uri = allUsersURI // versitygw names the AllUsers group by ID
		}
		switch uri {
		case allUsersURI:
			who = "AllUsers"
		case authUsersURI:
			who = "AuthenticatedUsers (anyone with any AWS account)"
		default:
			continue
		}
		perm := strings.ToUpper(strings.TrimSpace(g.Permission))
		words, ok := aclWords[perm]
		if !ok {
			words = "a permission this check does not know"
		}
		out = append(out, "ACL grant to "+who+": "+clip(perm, 120)+" ("+words+")")
	}
	return out, nil
}
