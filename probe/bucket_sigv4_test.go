package probe

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSigV4Suite checks the signer against vectors of AWS's published
// Signature Version 4 test suite (aws-sig-v4-test-suite: service
// "service", us-east-1, 2015-08-30T12:36:00Z, key AKIDEXAMPLE).
func TestSigV4Suite(t *testing.T) {
	key := SigV4Key{AccessKeyID: "AKIDEXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Region: "us-east-1", Service: "service"}
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	tests := []struct {
		name, method, target string
		headers              [][2]string
		body                 string
		signed, sig          string
	}{
		{"get-vanilla", "GET", "/", nil, "", "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", nil, "", "host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
		{"get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1", nil, "", "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"get-vanilla-query-order-value", "GET", "/?Param1=value2&Param1=value1", nil, "", "host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
		{"get-vanilla-utf8-query", "GET", "/?\u1234=bar", nil, "", "host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
		{"get-header-key-duplicate", "GET", "/", [][2]string{{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}, "", "host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
		{"get-header-value-order", "GET", "/", [][2]string{{"My-Header1", "value4"}, {"My-Header1", "value1"}, {"My-Header1", "value3"}, {"My-Header1", "value2"}}, "", "host;my-header1;x-amz-date", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
		{"get-header-value-trim", "GET", "/", [][2]string{{"My-Header1", " value1"}, {"My-Header2", `"a   b   c"`}}, "", "host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
		{"post-x-www-form-urlencoded", "POST", "/", [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, "Param1=value1", "content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(tt.method, "https://example.amazonaws.com"+tt.target, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tt.headers {
				r.Header.Add(h[0], h[1])
			}
			signV4(r, hexSHA256(tt.body), key, at)
			want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" +
				tt.signed + ", Signature=" + tt.sig
			if got := r.Header.Get("Authorization"); got != want {
				creq, _ := sigV4CanonicalRequest(r, hexSHA256(tt.body))
				t.Errorf("Authorization\n got %s\nwant %s\ncanonical request:\n%s", got, want, creq)
			}
			if got := r.Header.Get("X-Amz-Date"); got != "20150830T123600Z" {
				t.Errorf("X-Amz-Date = %q", got)
			}
		})
	}
}

// TestSigV4S3Examples checks SignV4 (which adds X-Amz-Content-Sha256, as S3
// requires) against the worked examples of the S3 API documentation
// ("Signature calculations for the Authorization header"): key
// AKIAIOSFODNN7EXAMPLE, bucket examplebucket, 2013-05-24.
func TestSigV4S3Examples(t *testing.T) {
	key := SigV4Key{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, target string
		headers      [][2]string
		signed, sig  string
	}{
		{"GET object with a range", "/test.txt", [][2]string{{"Range", "bytes=0-9"}}, "host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
		{"GET bucket lifecycle", "/?lifecycle", nil, "host;x-amz-content-sha256;x-amz-date", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
		{"GET bucket (list objects)", "/?max-keys=2&prefix=J", nil, "host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest("GET", "https://examplebucket.s3.amazonaws.com"+tt.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("User-Agent", "tocsin/test") // not signed
			for _, h := range tt.headers {
				r.Header.Add(h[0], h[1])
			}
			SignV4(r, nil, key, at)
			want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=" +
				tt.signed + ", Signature=" + tt.sig
			if got := r.Header.Get("Authorization"); got != want {
				creq, _ := sigV4CanonicalRequest(r, EmptyPayloadHash)
				t.Errorf("Authorization\n got %s\nwant %s\ncanonical request:\n%s", got, want, creq)
			}
			if got := r.Header.Get("X-Amz-Content-Sha256"); got != EmptyPayloadHash {
				t.Errorf("X-Amz-Content-Sha256 = %q", got)
			}
		})
	}
}

func TestSigV4Canonical(t *testing.T) {
	tests := []struct{ in, wantQuery string }{
		{"list-type=2&max-keys=1", "list-type=2&max-keys=1"},
		{"policy", "policy="},
		{"b&a=1", "a=1&b="},
		{"q=a%20b", "q=a%20b"},
		{"q=a+b", "q=a%2Bb"},
		{"x=a.b&x=a%2Fb", "x=a%2Fb&x=a.b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := sigV4CanonicalQuery(tt.in); got != tt.wantQuery {
				t.Errorf("query %q = %q, want %q", tt.in, got, tt.wantQuery)
			}
		})
	}
	r, _ := http.NewRequest("GET", "http://s3.test/media/a%20b/%E1%88%B4", nil)
	if got := sigV4CanonicalURI(r.URL); got != "/media/a%20b/%E1%88%B4" {
		t.Errorf("canonical URI = %q", got)
	}
}
