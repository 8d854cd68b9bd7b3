package probe

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// s3Sign signs the S3 peer's administrative requests with the prober's
// own SigV4 code, so that every setup request is one more check of it
// against a real server.
func s3Sign(r *http.Request, payload []byte, accessKey, secretKey, region string) {
	SignV4(r, payload, SigV4Key{AccessKeyID: accessKey, Secret: secretKey, Region: region}, time.Now())
}

// startAlias starts a reverse proxy on 127.0.0.2 that stands for a media
// domain or CDN serving the bucket at its root.
func startAlias(t *testing.T, bucketURL string) string {
	t.Helper()
	target, err := url.Parse(bucketURL)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.2: %v", err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) },
	}}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

const secretEnv = "TOCSIN_TEST_BUCKET_SECRET"

func TestBucketRealS3(t *testing.T) {
	s3 := testpeer.StartS3(t, s3Sign)
	s3.CreateBucket(t, "media")
	s3.PutObject(t, "media", "avatars/cat.jpg", []byte("not really a JPEG"))
	alias := startAlias(t, s3.URL+"/media")

	// The endpoint and its virtual-host name resolve to the peer through
	// the test's own DNS server on 127.0.0.1.
	dns := startDNS(t)
	dns.add(testpeer.S3Domain+".", &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
	dns.add("media."+testpeer.S3Domain+".", &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
	p := New("tocsin/test (+http://127.0.0.1)")
	p.Resolver = resolverFor(dns)
	p.Getenv = func(name string) string {
		if name == secretEnv {
			return s3.SecretKey
		}
		return ""
	}
	endpoint := "http://" + testpeer.S3Domain + ":" + strconv.Itoa(s3.Port)
	check := &tocsin.Check{ID: 7, Kind: tocsin.CheckBucket, Timeout: 20 * time.Second, Spec: tocsin.CheckSpec{
		Provider: "s3", Endpoint: endpoint, Bucket: "media", Aliases: []string{alias},
		AccessKeyID: s3.AccessKey, SecretKeyEnv: secretEnv,
	}}
	wantURLs := []string{
		endpoint + "/media/?list-type=2&max-keys=1",
		"http://media." + testpeer.S3Domain + ":" + strconv.Itoa(s3.Port) + "/?list-type=2&max-keys=1",
		alias + "/?list-type=2&max-keys=1",
	}
	run := func(t *testing.T) *tocsin.CheckResult {
		t.Helper()
		r := p.Run(context.Background(), check)
		if !r.OK || r.Bucket == nil {
			t.Fatalf("result: OK=%v error %q bucket %+v", r.OK, r.Error, r.Bucket)
		}
		if len(r.Bucket.Probed) != 3 {
			t.Fatalf("probed %+v, want path, virtual-host and alias", r.Bucket.Probed)
		}
		for i, style := range []string{"path", "virtual-host", "alias"} {
			if pr := r.Bucket.Probed[i]; pr.Style != style || pr.URL != wantURLs[i] {
				t.Errorf("probe %d = %s %s, want %s %s", i, pr.Style, pr.URL, style, wantURLs[i])
			}
		}
		if r.Bucket.PolicyError != "" {
			t.Errorf("policy error: %s", r.Bucket.PolicyError)
		}
		j, _ := json.Marshal(r)
		if strings.Contains(string(j), s3.SecretKey) {
			t.Errorf("the secret key is in the result: %s", j)
		}
		return r
	}

	t.Run("private bucket is not listable", func(t *testing.T) {
		r := run(t)
		if len(r.Bucket.Listable) != 0 || len(r.Bucket.Grants) != 0 {
			t.Errorf("listable %v, grants %v; want none", r.Bucket.Listable, r.Bucket.Grants)
		}
		for _, pr := range r.Bucket.Probed {
			if pr.Status != http.StatusForbidden || !strings.HasPrefix(pr.Answer, "denied") {
				t.Errorf("%s: %d %q, want 403 denied", pr.Style, pr.Status, pr.Answer)
			}
		}
	})

	t.Run("read-only policy: objects readable, bucket not listable", func(t *testing.T) {
		s3.PutBucketPolicy(t, "media", `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow",
			"Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::media/*"}]}`)
		r := run(t)
		if len(r.Bucket.Listable) != 0 {
			t.Errorf("listable %v; want none", r.Bucket.Listable)
		}
		want := `policy statement "PublicRead" lets anyone (Principal "*") read objects (s3:GetObject) in arn:aws:s3:::media/*`
		if len(r.Bucket.Grants) != 1 || r.Bucket.Grants[0] != want {
			t.Errorf("grants %q, want [%q]", r.Bucket.Grants, want)
		}
	})

	t.Run("public-list policy: listable through every URL", func(t *testing.T) {
		s3.PutBucketPolicy(t, "media", `{"Version":"2012-10-17","Statement":[{"Sid":"PublicList","Effect":"Allow",
			"Principal":{"AWS":["*"]},"Action":["s3:ListBucket","s3:Get*"],"Resource":["arn:aws:s3:::media","arn:aws:s3:::media/*"]}]}`)
		r := run(t)
		if strings.Join(r.Bucket.Listable, " ") != strings.Join(wantURLs, " ") {
			t.Errorf("listable %v, want %v (probed %+v)", r.Bucket.Listable, wantURLs, r.Bucket.Probed)
		}
		want := `policy statement "PublicList" lets anyone (Principal {"AWS":["*"]}) list the bucket (s3:ListBucket) and read objects (s3:Get*) in arn:aws:s3:::media, arn:aws:s3:::media/*`
		if len(r.Bucket.Grants) != 1 || r.Bucket.Grants[0] != want {
			t.Errorf("grants %q, want [%q]", r.Bucket.Grants, want)
		}
	})

	t.Run("policy removed: the next run is not listable", func(t *testing.T) {
		s3.DeleteBucketPolicy(t, "media")
		r := run(t)
		if len(r.Bucket.Listable) != 0 || len(r.Bucket.Grants) != 0 {
			t.Errorf("listable %v, grants %v; want none", r.Bucket.Listable, r.Bucket.Grants)
		}
	})

	t.Run("bucket URL alone, path style, no credentials", func(t *testing.T) {
		s3.PutBucketPolicy(t, "media", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::media"}]}`)
		c := &tocsin.Check{Kind: tocsin.CheckBucket, Timeout: 20 * time.Second, Spec: tocsin.CheckSpec{URL: s3.URL + "/media"}}
		r := New("tocsin/test").Run(context.Background(), c)
		if !r.OK || r.Bucket == nil || len(r.Bucket.Listable) != 1 || r.Bucket.Probed[0].Style != "path" {
			t.Fatalf("result %+v bucket %+v, want listable through the path-style URL", r, r.Bucket)
		}
		if r.Bucket.Grants != nil || r.Bucket.PolicyError != "" {
			t.Errorf("without credentials no policy is read; got %v %q", r.Bucket.Grants, r.Bucket.PolicyError)
		}
	})

	t.Run("public-read-write ACL: listable, grants explained", func(t *testing.T) {
		s3.DeleteBucketPolicy(t, "media")
		s3.PutBucketOwnershipControls(t, "media", "BucketOwnerPreferred")
		s3.PutBucketCannedACL(t, "media", "public-read-write")
		r := run(t)
		if len(r.Bucket.Listable) != 3 {
			t.Errorf("listable %v, want all three URLs", r.Bucket.Listable)
		}
		want := []string{"ACL grant to AllUsers: READ (list the bucket)", "ACL grant to AllUsers: WRITE (create, overwrite and delete objects)"}
		if strings.Join(r.Bucket.Grants, "\n") != strings.Join(want, "\n") {
			t.Errorf("grants %q, want %q", r.Bucket.Grants, want)
		}
		s3.PutBucketCannedACL(t, "media", "private")
		if r := run(t); len(r.Bucket.Listable) != 0 || len(r.Bucket.Grants) != 0 {
			t.Errorf("after the ACL is made private: listable %v, grants %q", r.Bucket.Listable, r.Bucket.Grants)
		}
	})

	t.Run("bucket URL with a trailing slash, with credentials", func(t *testing.T) {
		c := &tocsin.Check{Kind: tocsin.CheckBucket, Timeout: 20 * time.Second, Spec: tocsin.CheckSpec{
			URL: s3.URL + "/media/", AccessKeyID: s3.AccessKey, SecretKeyEnv: secretEnv}}
		r := p.Run(context.Background(), c)
		if !r.OK || r.Bucket == nil || r.Bucket.PolicyError != "" || len(r.Bucket.Listable) != 0 {
			t.Fatalf("result %+v bucket %+v, want the policy and ACL read, nothing listable", r, r.Bucket)
		}
	})

	t.Run("wrong secret: the policy error says so", func(t *testing.T) {
		bad := *p
		bad.Getenv = func(string) string { return "not-the-secret" }
		r := bad.Run(context.Background(), check)
		if !r.OK || r.Bucket == nil || !strings.Contains(r.Bucket.PolicyError, "policy: HTTP 403") {
			t.Fatalf("result %+v bucket %+v, want a policy error with HTTP 403", r, r.Bucket)
		}
	})
}
