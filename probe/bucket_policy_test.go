package probe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestExplainPolicy(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
		err       string
	}{
		{"public read", `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::media/*"}]}`,
			[]string{`policy statement "PublicRead" lets anyone (Principal "*") read objects (s3:GetObject) in arn:aws:s3:::media/*`}, ""},
		{"AWS star, list and wildcard get", `{"Statement":[{"Sid":"L","Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:ListBucket","s3:Get*"],"Resource":["arn:aws:s3:::media","arn:aws:s3:::media/*"]}]}`,
			[]string{`policy statement "L" lets anyone (Principal {"AWS":"*"}) list the bucket (s3:ListBucket) and read objects (s3:Get*) in arn:aws:s3:::media, arn:aws:s3:::media/*`}, ""},
		{"s3:* grants everything, unnamed statement", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::media"}}`,
			[]string{`policy statement 1 lets anyone (Principal "*") list the bucket (s3:*), read objects (s3:*), write and delete objects (s3:*) and change the bucket's policy, ACL or settings (s3:*) in arn:aws:s3:::media`}, ""},
		{"write only, lower-case action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:putobject","Resource":"arn:aws:s3:::media/uploads/*"}]}`,
			[]string{`policy statement 1 lets anyone (Principal "*") write and delete objects (s3:putobject) in arn:aws:s3:::media/uploads/*`}, ""},
		{"condition is mentioned", `{"Statement":[{"Sid":"Office","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::media/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}`,
			[]string{`policy statement "Office" lets anyone (Principal "*") read objects (s3:GetObject) in arn:aws:s3:::media/*, when its conditions hold (aws:SourceIp)`}, ""},
		{"NotPrincipal with Allow", `{"Statement":[{"Sid":"Odd","Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::media"}]}`,
			[]string{`policy statement "Odd" lets everyone except the principals it names, anonymous callers included (NotPrincipal {"AWS":"arn:aws:iam::111122223333:root"}) list the bucket (s3:ListBucket) in arn:aws:s3:::media`}, ""},
		{"NotAction", `{"Statement":[{"Sid":"All","Effect":"Allow","Principal":"*","NotAction":["s3:Put*","s3:Delete*","s3:AbortMultipartUpload"],"Resource":"*"}]}`,
			[]string{`policy statement "All" lets anyone (Principal "*") list the bucket (s3:ListBucket, s3:ListBucketVersions, s3:ListBucketMultipartUploads) and read objects (s3:GetObject, s3:GetObjectVersion) — every action except s3:Put*, s3:Delete*, s3:AbortMultipartUpload (NotAction) in *`}, ""},
		{"Deny is not a grant", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, nil, ""},
		{"named account is not anyone", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/app"},"Action":"s3:*","Resource":"*"}]}`, nil, ""},
		{"anyone, unrelated action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetBucketLocation","Resource":"arn:aws:s3:::media"}]}`, nil, ""},
		{"odd types are skipped", `{"Statement":[{"Effect":7,"Principal":[1]},"x",{"Effect":"Allow","Principal":"*","Action":[3,"s3:GetObject"]}]}`,
			[]string{`policy statement 3 lets anyone (Principal "*") read objects (s3:GetObject) (no Resource named)`}, ""},
		{"no statement", `{"Version":"2012-10-17"}`, nil, ""},
		{"not JSON", `<Error/>`, nil, "the policy is not valid JSON"},
		{"Statement a string", `{"Statement":"everything"}`, nil, "neither a statement nor a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExplainPolicy([]byte(tt.doc))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

const aclPublicRead = `<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>admin</DisplayName></Owner><AccessControlList>
<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>admin</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>
<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>
<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AuthenticatedUsers</URI></Grantee><Permission>WRITE</Permission></Grant>
</AccessControlList></AccessControlPolicy>`

func TestExplainACL(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
		err       string
	}{
		{"public read and authenticated write", aclPublicRead, []string{
			"ACL grant to AllUsers: READ (list the bucket)",
			"ACL grant to AuthenticatedUsers (anyone with any AWS account): WRITE (create, overwrite and delete objects)",
		}, ""},
		{"private", `<AccessControlPolicy><Owner><ID>abc</ID></Owner><AccessControlList><Grant><Grantee><ID>abc</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`, nil, ""},
		{"versitygw's spelling of AllUsers", `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><ID>all-users</ID></Grantee><Permission>READ</Permission></Grant><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>all-users</ID></Grantee><Permission>WRITE</Permission></Grant></AccessControlList></AccessControlPolicy>`,
			[]string{"ACL grant to AllUsers: READ (list the bucket)"}, ""},
		{"unknown permission", `<AccessControlPolicy><AccessControlList><Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>EVERYTHING</Permission></Grant></AccessControlList></AccessControlPolicy>`,
			[]string{"ACL grant to AllUsers: EVERYTHING (a permission this check does not know)"}, ""},
		{"malformed", `<AccessControlPolicy><AccessControlList>`, nil, "the ACL is not valid XML"},
		{"not an ACL", `<Error><Code>AccessDenied</Code></Error>`, nil, "<Error>, not an AccessControlPolicy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExplainACL([]byte(tt.doc))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestActionMatch(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "s3:GetObject", true},
		{"s3:*", "s3:ListBucket", true},
		{"s3:Get*", "s3:GetObject", true},
		{"s3:Get*", "s3:PutObject", false},
		{"S3:LISTBUCKET", "s3:ListBucket", true},
		{"s3:?etObject", "s3:GetObject", true},
		{"s3:List", "s3:ListBucket", false},
		{"s3:[G]etObject", "s3:GetObject", false}, // [ is literal in IAM
		{`s3:\*`, "s3:GetObject", false},
	}
	for _, tt := range tests {
		if got := actionMatch(tt.pattern, tt.action); got != tt.want {
			t.Errorf("actionMatch(%q, %q) = %v", tt.pattern, tt.action, got)
		}
	}
}

// FuzzBucketPolicy: any document is explained or refused, never a panic,
// and every line names its statement.
func FuzzBucketPolicy(f *testing.F) {
	for _, s := range []string{
		`{"Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::media/*"}]}`,
		`{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":["*"]},"NotAction":"s3:Put*","Resource":["a","b"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":[1,"*"]},"Action":["[","\\"]}]}`,
		`{"Statement":null}`, `[]`, `{`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		lines, err := ExplainPolicy(doc)
		if err != nil && lines != nil {
			t.Fatal("both grants and an error")
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, "policy statement ") || !utf8.ValidString(l) {
				t.Fatalf("line %q", l)
			}
		}
	})
}

// FuzzBucketACL: any document is explained or refused, never a panic.
func FuzzBucketACL(f *testing.F) {
	for _, s := range []string{aclPublicRead, `<AccessControlPolicy><AccessControlList><Grant/></AccessControlList></AccessControlPolicy>`, `<a`, ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		lines, err := ExplainACL(doc)
		if err != nil && lines != nil {
			t.Fatal("both grants and an error")
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, "ACL grant to ") || !utf8.ValidString(l) {
				t.Fatalf("line %q", l)
			}
		}
	})
}
