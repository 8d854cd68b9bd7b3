package testpeer

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The S3 peer is a real S3-compatible server: versitygw
// (github.com/versity/versitygw, pure Go) with its posix backend on a
// temporary directory, listening on 127.0.0.1 with root keys the peer
// picks, and virtual-host addressing enabled under S3Domain. .ci/run
// builds it into .cache/versitygw/bin; it is also found on PATH.

// S3Domain is the peer's virtual-host base domain: bucket "media" is
// also served as media.s3.test. No public DNS knows it: tests resolve it
// to 127.0.0.1 with their own DNS server on loopback (probe.Prober.Resolver),
// so no query leaves the host.
const S3Domain = "s3.test"

// S3Region is the region the peer signs and checks requests with.
const S3Region = "us-east-1"

// S3Signer signs an administrative request with the root keys. The peer
// takes it from the test, so that the peer's requests exercise the
// prober's own Signature Version 4 code (probe.SignV4) against a real
// server, without this package importing the probe package.
type S3Signer func(r *http.Request, payload []byte, accessKey, secretKey, region string)

// S3Peer is a running versitygw.
type S3Peer struct {
	// URL is the path-style endpoint, http://127.0.0.1:PORT.
	URL string
	// Port is the port it listens on, also under S3Domain's names.
	Port int
	// AccessKey and SecretKey are the root user's keys.
	AccessKey, SecretKey string
	Dir                  string

	sign   S3Signer
	proc   *process
	client *http.Client
}

// StartS3 starts versitygw for the length of the test. It skips the test
// when versitygw is not installed, or fails it when TOCSIN_REQUIRE_PEERS
// is set.
func StartS3(t testing.TB, sign S3Signer) *S3Peer {
	t.Helper()
	bin, err := findCached("versitygw", "versitygw")
	if err != nil {
		unavailable(t, "S3 peer needs versitygw (.ci/run builds it into .cache/versitygw/bin): %v", err)
	}
	var lastErr error
	for range 3 { // a port picked may be taken before versitygw binds it
		p, err := startVersitygw(bin, t.TempDir(), sign)
		if err == nil {
			t.Cleanup(func() {
				if err := p.proc.stop(5 * time.Second); err != nil {
					t.Errorf("testpeer: %v", err)
				}
			})
			return p
		}
		lastErr = err
	}
	t.Fatalf("testpeer: S3 peer: %v", lastErr)
	return nil
}

// findCached looks for a program in the repository's .cache/TOOL/bin,
// then on PATH.
func findCached(tool, name string) (string, error) {
	if dir, err := os.Getwd(); err == nil {
		for ; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, ".cache", tool, "bin", name)
				if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
					return p, nil
				}
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return findProgram(name)
}

func startVersitygw(bin, dir string, sign S3Signer) (*S3Peer, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	p := &S3Peer{
		URL: "http://127.0.0.1:" + strconv.Itoa(ports[0]), Port: ports[0],
		AccessKey: "tocsinadmin", SecretKey: hex.EncodeToString(secret), Dir: dir,
		sign: sign, client: &http.Client{Timeout: 30 * time.Second},
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "versitygw.log")
	// The keys are made for this run only; argv may show them.
	p.proc, err = startProcess("versitygw", logPath,
		bin, "--access", p.AccessKey, "--secret", p.SecretKey, "--port", "127.0.0.1:"+strconv.Itoa(p.Port), "--region", S3Region,
		"--virtual-domain", S3Domain, "posix", data)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Any S3 answer (an anonymous ListBuckets is refused) means it serves.
		resp, err := p.client.Get(p.URL + "/")
		if err == nil {
			resp.Body.Close()
			if resp.Header.Get("X-Amz-Request-Id") != "" {
				return p, nil
			}
		}
		if p.proc.exited() || time.Now().After(deadline) {
			_ = p.proc.stop(5 * time.Second)
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("versitygw did not answer on %s (exit: %v):\n%s", p.URL, p.proc.err, lastLines(log, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Do sends a request signed with the root keys to the path-style URL path
// and returns the answer's status and body.
func (p *S3Peer) Do(t testing.TB, method, path string, body []byte) (int, []byte) {
	t.Helper()
	return p.do(t, method, path, body, nil)
}

func (p *S3Peer) do(t testing.TB, method, path string, body []byte, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, p.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("testpeer: S3 %s %s: %v", method, path, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	p.sign(req, body, p.AccessKey, p.SecretKey, S3Region)
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("testpeer: S3 %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("testpeer: S3 %s %s: reading the answer: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// must sends a signed request and fails t unless it answers 2xx.
func (p *S3Peer) must(t testing.TB, method, path string, body []byte) []byte {
	t.Helper()
	status, out := p.Do(t, method, path, body)
	if status/100 != 2 {
		t.Fatalf("testpeer: S3 %s %s: HTTP %d: %s", method, path, status, out)
	}
	return out
}

// CreateBucket creates a private bucket.
func (p *S3Peer) CreateBucket(t testing.TB, bucket string) {
	t.Helper()
	p.must(t, http.MethodPut, "/"+bucket, nil)
}

// PutObject stores data under key.
func (p *S3Peer) PutObject(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	p.must(t, http.MethodPut, "/"+bucket+"/"+key, data)
}

// PutBucketPolicy sets the bucket's policy document.
func (p *S3Peer) PutBucketPolicy(t testing.TB, bucket, policy string) {
	t.Helper()
	p.must(t, http.MethodPut, "/"+bucket+"?policy", []byte(policy))
}

// DeleteBucketPolicy removes the bucket's policy.
func (p *S3Peer) DeleteBucketPolicy(t testing.TB, bucket string) {
	t.Helper()
	p.must(t, http.MethodDelete, "/"+bucket+"?policy", nil)
}

// PutBucketACL replaces the bucket's ACL with an AccessControlPolicy document.
func (p *S3Peer) PutBucketACL(t testing.TB, bucket, acl string) {
	t.Helper()
	p.must(t, http.MethodPut, "/"+bucket+"?acl", []byte(acl))
}

// PutBucketOwnershipControls sets the bucket's object ownership
// (BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter); ACLs apply
// only when it is not BucketOwnerEnforced.
func (p *S3Peer) PutBucketOwnershipControls(t testing.TB, bucket, ownership string) {
	t.Helper()
	p.must(t, http.MethodPut, "/"+bucket+"?ownershipControls", []byte(
		`<OwnershipControls xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ObjectOwnership>`+ownership+`</ObjectOwnership></Rule></OwnershipControls>`))
}

// PutBucketCannedACL sets a canned ACL (private, public-read,
// public-read-write) on the bucket, through the x-amz-acl header.
func (p *S3Peer) PutBucketCannedACL(t testing.TB, bucket, acl string) {
	t.Helper()
	status, out := p.do(t, http.MethodPut, "/"+bucket+"?acl", nil, http.Header{"X-Amz-Acl": {acl}})
	if status/100 != 2 {
		t.Fatalf("testpeer: S3 PUT /%s?acl (%s): HTTP %d: %s", bucket, acl, status, out)
	}
}
