package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/tocsin-org/tocsin"
)

func TestBucketTargets(t *testing.T) {
	tests := []struct {
		name string
		spec tocsin.CheckSpec
		want []string // "style url"
	}{
		{"path-style URL", tocsin.CheckSpec{Provider: "s3", URL: "https://s3.example.org/media"},
			[]string{"path https://s3.example.org/media/?list-type=2&max-keys=1"}},
		{"virtual-host URL", tocsin.CheckSpec{Provider: "s3", URL: "https://media.s3.example.org/"},
			[]string{"virtual-host https://media.s3.example.org/?list-type=2&max-keys=1"}},
		{"endpoint and bucket, with aliases, each URL once", tocsin.CheckSpec{Provider: "s3", URL: "https://s3.example.org/media",
			Endpoint: "https://s3.example.org/", Bucket: "media", Aliases: []string{"https://media.example.org", "https://cdn.example.net/media/"}},
			[]string{
				"path https://s3.example.org/media/?list-type=2&max-keys=1",
				"virtual-host https://media.s3.example.org/?list-type=2&max-keys=1",
				"alias https://media.example.org/?list-type=2&max-keys=1",
				"alias https://cdn.example.net/media/?list-type=2&max-keys=1",
			}},
		{"an IP endpoint has no virtual-host style", tocsin.CheckSpec{Provider: "s3", Endpoint: "http://127.0.0.1:9000", Bucket: "media"},
			[]string{"path http://127.0.0.1:9000/media/?list-type=2&max-keys=1"}},
		{"endpoint with port", tocsin.CheckSpec{Provider: "s3", Endpoint: "http://s3.test:9000", Bucket: "media"},
			[]string{"path http://s3.test:9000/media/?list-type=2&max-keys=1", "virtual-host http://media.s3.test:9000/?list-type=2&max-keys=1"}},
		{"azure container", tocsin.CheckSpec{Provider: "azure", URL: "https://acct.blob.core.windows.net/media"},
			[]string{"path https://acct.blob.core.windows.net/media?restype=container&comp=list&maxresults=1"}},
		{"gcs endpoint: the JSON API", tocsin.CheckSpec{Provider: "gcs", Endpoint: "https://storage.googleapis.com", Bucket: "media"},
			[]string{"path https://storage.googleapis.com/storage/v1/b/media/o?maxResults=1"}},
		{"gcs URL: the XML API", tocsin.CheckSpec{Provider: "gcs", URL: "https://storage.googleapis.com/media"},
			[]string{"path https://storage.googleapis.com/media/?list-type=2&max-keys=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			targets, err := bucketTargets(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tg := range targets {
				got = append(got, tg.style+" "+tg.list)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if _, err := bucketTargets(tocsin.CheckSpec{Provider: "s3"}); err == nil {
		t.Error("a spec without URL or endpoint gave targets")
	}
}

// bucketServer answers list requests with canned bodies, by path.
type bucketServer struct {
	*httptest.Server
	hits      atomic.Int64
	userAgent atomic.Value
	query     atomic.Value
}

func startBucketServer(t *testing.T, routes map[string]func(w http.ResponseWriter, r *http.Request)) *bucketServer {
	t.Helper()
	s := &bucketServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.userAgent.Store(r.UserAgent())
		s.query.Store(r.URL.RawQuery)
		h, ok := routes[r.URL.Path]
		if !ok {
			http.Error(w, "no route "+r.URL.Path, http.StatusTeapot)
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func reply(status int, ctype, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

func bucketCheck(spec tocsin.CheckSpec) *tocsin.Check {
	return &tocsin.Check{ID: 1, Kind: tocsin.CheckBucket, Timeout: 10 * time.Second, Spec: spec}
}

func TestBucketAzureAndGCS(t *testing.T) {
	srv := startBucketServer(t, map[string]func(http.ResponseWriter, *http.Request){
		"/public":                 reply(200, "application/xml", azureListing),
		"/private":                reply(404, "application/xml", azureNotFound),
		"/storage/v1/b/media/o":   reply(200, "application/json; charset=UTF-8", gcsListing),
		"/storage/v1/b/secret/o":  reply(401, "application/json", gcsDenied),
		"/media/":                 reply(200, "application/xml", s3Listing),
		"/storage/v1/b/website/o": reply(200, "text/html", htmlPage),
	})
	tests := []struct {
		name      string
		spec      tocsin.CheckSpec
		listable  bool
		answer    string
		wantQuery string
	}{
		{"azure public container", tocsin.CheckSpec{Provider: "azure", URL: srv.URL + "/public"}, true, "listing", "restype=container&comp=list&maxresults=1"},
		{"azure private container", tocsin.CheckSpec{Provider: "azure", URL: srv.URL + "/private"}, false, "not found (ResourceNotFound)", "restype=container&comp=list&maxresults=1"},
		{"gcs public bucket, JSON API", tocsin.CheckSpec{Provider: "gcs", Endpoint: srv.URL, Bucket: "media"}, true, "listing", "maxResults=1"},
		{"gcs private bucket, JSON API", tocsin.CheckSpec{Provider: "gcs", Endpoint: srv.URL, Bucket: "secret"}, false, "denied (Anonymous caller does not have storage.objects.list access", "maxResults=1"},
		{"gcs public bucket, XML API", tocsin.CheckSpec{Provider: "gcs", URL: srv.URL + "/media"}, true, "listing", "list-type=2&max-keys=1"},
		{"gcs answering HTML", tocsin.CheckSpec{Provider: "gcs", Endpoint: srv.URL, Bucket: "website"}, false, "not a listing: an HTML page", "maxResults=1"},
	}
	p := New("tocsin/test (+http://127.0.0.1)")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.Run(context.Background(), bucketCheck(tt.spec))
			if !r.OK || r.Bucket == nil || len(r.Bucket.Probed) != 1 {
				t.Fatalf("result %+v, bucket %+v", r, r.Bucket)
			}
			pr := r.Bucket.Probed[0]
			if (len(r.Bucket.Listable) == 1) != tt.listable || !strings.HasPrefix(pr.Answer, tt.answer) {
				t.Errorf("listable %v, answer %q; want %v, %q", r.Bucket.Listable, pr.Answer, tt.listable, tt.answer)
			}
			if q := srv.query.Load(); q != tt.wantQuery {
				t.Errorf("query %q, want %q", q, tt.wantQuery)
			}
			if ua := srv.userAgent.Load(); ua != "tocsin/test (+http://127.0.0.1)" {
				t.Errorf("User-Agent %q", ua)
			}
		})
	}
}

func TestBucketBadAnswers(t *testing.T) {
	endless := func(prefix, unit string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprint(w, prefix)
			for r.Context().Err() == nil {
				if _, err := fmt.Fprint(w, unit); err != nil {
					return
				}
			}
		}
	}
	srv := startBucketServer(t, map[string]func(http.ResponseWriter, *http.Request){
		"/malformed/":       reply(200, "application/xml", `<ListBucketResult><Name>media</Name><Contents><Key>a</Contents></ListBucketResult>`),
		"/azure-malformed":  reply(200, "application/xml", `<EnumerationResults ContainerName="media"><Blobs><Blob></Blobs>`),
		"/endless-listing/": endless(`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`, `<Contents><Key>k</Key></Contents>`),
		"/endless-junk/":    endless("", "AAAAAAAAAAAAAAAA"),
		"/moved/":           func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere/", http.StatusFound) },
		"/elsewhere/":       reply(200, "application/xml", s3Listing),
		"/broken/":          reply(500, "application/xml", `<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`),
		"/html/":            reply(200, "text/html", htmlPage),
		"/slow/": func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // answers nothing until the prober gives up
		},
	})
	tests := []struct {
		name   string
		spec   tocsin.CheckSpec
		answer string
		status int
	}{
		{"malformed S3 XML", tocsin.CheckSpec{URL: srv.URL + "/malformed"}, "not a listing: malformed XML: XML syntax error", 200},
		{"malformed Azure XML", tocsin.CheckSpec{Provider: "azure", URL: srv.URL + "/azure-malformed"}, "not a listing: malformed XML: XML syntax error", 200},
		{"endless listing: read to the limit", tocsin.CheckSpec{URL: srv.URL + "/endless-listing"}, "listing (answer cut at the read limit)", 200},
		{"endless junk", tocsin.CheckSpec{URL: srv.URL + "/endless-junk"}, "not a listing: application/xml", 200},
		{"redirect is not followed", tocsin.CheckSpec{URL: srv.URL + "/moved"}, "redirect (302) to /elsewhere/, not followed", 302},
		{"server error", tocsin.CheckSpec{URL: srv.URL + "/broken"}, "server error 500 (InternalError)", 500},
		{"HTML page", tocsin.CheckSpec{URL: srv.URL + "/html"}, "not a listing: an HTML page", 200},
	}
	p := New("tocsin/test")
	p.BodyLimit = 4096
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.hits.Load()
			r := p.Run(context.Background(), bucketCheck(tt.spec))
			if !r.OK || r.Bucket == nil || len(r.Bucket.Probed) != 1 {
				t.Fatalf("result %+v, bucket %+v", r, r.Bucket)
			}
			pr := r.Bucket.Probed[0]
			if pr.Status != tt.status || !strings.HasPrefix(pr.Answer, tt.answer) {
				t.Errorf("probe %d %q, want %d %q…", pr.Status, pr.Answer, tt.status, tt.answer)
			}
			if wantListable := strings.HasPrefix(tt.answer, "listing"); (len(r.Bucket.Listable) > 0) != wantListable {
				t.Errorf("listable %v, want %v", r.Bucket.Listable, wantListable)
			}
			if n := srv.hits.Load() - before; n != 1 {
				t.Errorf("%d requests, want 1 (no redirect followed)", n)
			}
		})
	}

	t.Run("timeout", func(t *testing.T) {
		c := bucketCheck(tocsin.CheckSpec{URL: srv.URL + "/slow"})
		c.Timeout = 300 * time.Millisecond
		r := p.Run(context.Background(), c)
		if r.OK || !strings.HasPrefix(r.Error, "timed out after 300ms") || r.Bucket == nil ||
			r.Bucket.Probed[0].Answer != "no complete answer within the timeout" {
			t.Errorf("result %+v, bucket %+v; want a timeout", r, r.Bucket)
		}
	})
}

func TestBucketNetworkFailures(t *testing.T) {
	closed := closedPort(t)
	srv := startBucketServer(t, map[string]func(http.ResponseWriter, *http.Request){"/media/": reply(403, "application/xml", s3Denied)})
	p := New("tocsin/test")

	t.Run("every URL refused: the check fails", func(t *testing.T) {
		r := p.Run(context.Background(), bucketCheck(tocsin.CheckSpec{URL: "http://" + closed + "/media", Aliases: []string{"http://" + closed + "/cdn"}}))
		if r.OK || r.Error != "no bucket URL answered (2 tried); first: connection refused" {
			t.Errorf("OK %v error %q", r.OK, r.Error)
		}
		if r.Bucket == nil || len(r.Bucket.Probed) != 2 || r.Bucket.Probed[1].Answer != "connection refused" {
			t.Errorf("bucket %+v", r.Bucket)
		}
	})
	t.Run("one URL answers: the check is reachable", func(t *testing.T) {
		r := p.Run(context.Background(), bucketCheck(tocsin.CheckSpec{URL: srv.URL + "/media", Aliases: []string{"http://" + closed + "/"}}))
		if !r.OK || r.Bucket.Probed[0].Answer != "denied (AccessDenied)" || r.Bucket.Probed[1].Answer != "connection refused" {
			t.Errorf("result %+v, bucket %+v", r, r.Bucket)
		}
	})
	t.Run("metadata address refused before connecting", func(t *testing.T) {
		// The dialer's Control hook stops the connection before connect(2):
		// no packet leaves the host.
		r := p.Run(context.Background(), bucketCheck(tocsin.CheckSpec{URL: "http://169.254.169.254/latest"}))
		want := "refused to probe 169.254.169.254: it is a cloud-metadata address; set checks.allow_private in the configuration to allow it"
		if r.OK || r.Error != want || r.Bucket == nil || r.Bucket.Probed[0].Answer != want {
			t.Errorf("OK %v error %q bucket %+v", r.OK, r.Error, r.Bucket)
		}
	})
	t.Run("a host that does not resolve", func(t *testing.T) {
		// The test's DNS server on 127.0.0.1 answers NXDOMAIN for the alias.
		dns := startDNS(t)
		dns.mu.Lock()
		dns.rcodes["media.nowhere.test."] = dnsmessage.RCodeNameError
		dns.mu.Unlock()
		q := New("tocsin/test")
		q.Resolver = resolverFor(dns)
		port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
		r := q.Run(context.Background(), bucketCheck(tocsin.CheckSpec{URL: srv.URL + "/media", Aliases: []string{"http://media.nowhere.test:" + port + "/"}}))
		if !r.OK || r.Bucket == nil || len(r.Bucket.Probed) != 2 ||
			r.Bucket.Probed[1].Answer != "the host media.nowhere.test does not resolve (no such name)" {
			t.Errorf("result %+v bucket %+v", r, r.Bucket)
		}
		if got := networkWords(context.Background(), errors.New("odd")); got != "odd" {
			t.Errorf("networkWords = %q", got)
		}
	})
}

func TestBucketPolicyErrors(t *testing.T) {
	srv := startBucketServer(t, map[string]func(http.ResponseWriter, *http.Request){
		"/media/": reply(403, "application/xml", s3Denied),
		"/media": func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
				http.Error(w, "unsigned", http.StatusBadRequest)
				return
			}
			switch r.URL.RawQuery {
			case "policy":
				reply(200, "application/json", `{"Statement":[{"Sid":"Bad",`)(w, r)
			case "acl":
				reply(200, "application/xml", aclPublicRead)(w, r)
			}
		},
	})
	spec := tocsin.CheckSpec{URL: srv.URL + "/media", AccessKeyID: "AKIDTEST", SecretKeyEnv: "BUCKET_SECRET", Region: "eu-west-3"}

	t.Run("secret unset", func(t *testing.T) {
		p := New("tocsin/test")
		p.Getenv = func(string) string { return "" }
		r := p.Run(context.Background(), bucketCheck(spec))
		if !r.OK || r.Bucket.PolicyError != "the environment variable BUCKET_SECRET (secret_key_env) is empty or unset, so the policy was not read" {
			t.Errorf("result %+v, bucket %+v", r, r.Bucket)
		}
	})
	t.Run("unreadable policy, readable ACL", func(t *testing.T) {
		p := New("tocsin/test")
		p.Getenv = func(string) string { return "s3cr3t-value" }
		r := p.Run(context.Background(), bucketCheck(spec))
		if !r.OK || !strings.HasPrefix(r.Bucket.PolicyError, "policy: the policy is not valid JSON") {
			t.Errorf("policy error %q", r.Bucket.PolicyError)
		}
		if len(r.Bucket.Grants) != 2 || r.Bucket.Grants[0] != "ACL grant to AllUsers: READ (list the bucket)" {
			t.Errorf("grants %q", r.Bucket.Grants)
		}
		if strings.Contains(fmt.Sprintf("%+v %+v", r, r.Bucket), "s3cr3t-value") {
			t.Error("the secret is in the result")
		}
	})
	t.Run("not S3", func(t *testing.T) {
		p := New("tocsin/test")
		s := spec
		s.Provider = "azure"
		r := p.Run(context.Background(), bucketCheck(s))
		if r.Bucket == nil || r.Bucket.PolicyError != "policies and ACLs are read for S3 buckets only" {
			t.Errorf("bucket %+v", r.Bucket)
		}
	})
}
