package intake

import (
	"context"
	"crypto/tls"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
	"github.com/tocsin-org/tocsin/sqlstore"
)

func openStore(t *testing.T) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tocsin.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func peerConfig(t *testing.T, p *testpeer.IMAPPeer, mode string) IMAPConfig {
	t.Helper()
	addr := p.Addr
	if mode == "tls" {
		addr = p.TLSAddr
	}
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return IMAPConfig{Host: host, Port: n, TLS: mode, Username: p.Username, Password: p.Password,
		TLSConfig: &tls.Config{RootCAs: p.RootCAs}, Poll: time.Hour}
}

func allSignals(t *testing.T, db *sqlstore.DB) []*tocsin.Signal {
	t.Helper()
	list, err := db.Signals(context.Background(), tocsin.SignalFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func seen(t *testing.T, p *testpeer.IMAPPeer) (seen, unseen int) {
	for _, f := range p.Flags(t) {
		if strings.Contains(f, "S") {
			seen++
		} else {
			unseen++
		}
	}
	return seen, unseen
}

const bucketReport = `From: Finder <finder@example.net>
To: security@example.org
Subject: =?utf-8?q?Bucket_list=C3=A9?=
Message-ID: <bucket-1@example.net>
Date: Fri, 20 Nov 2026 17:40:00 +0100
Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

https://s3.example/backups/ lists its files <script>x</script>
--m
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="listing.bin"
Content-Transfer-Encoding: base64

AAECAwQFBgcICQ==
--m--
`

func TestWorkerReadsTheMailbox(t *testing.T) {
	p := testpeer.StartIMAP(t)
	for _, mode := range []string{"tls", "starttls", "none"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			db := openStore(t)
			w, err := NewWorker(db, peerConfig(t, p, mode), nil)
			if err != nil {
				t.Fatal(err)
			}
			id := "<" + mode + "@example.net>"
			p.Deliver(t, crlf(strings.Replace(bucketReport, "<bucket-1@example.net>", id, 1)))
			p.Deliver(t, crlf("From: other@example.net\nSubject: \nMessage-ID: <empty-"+mode+"@example.net>\n\n"))
			p.Deliver(t, []byte("no header at all "+mode))
			n, err := w.Poll(ctx)
			if err != nil || n != 3 {
				t.Fatalf("Poll = %d, %v; want 3 signals\n%s", n, err, p.Log())
			}
			if s, u := seen(t, p); u != 0 {
				t.Errorf("%d seen, %d still unseen after the round", s, u)
			}
			var got *tocsin.Signal
			for _, s := range allSignals(t, db) {
				if s.MessageID == id {
					got = s
				}
			}
			if got == nil {
				t.Fatal("the bucket report made no signal")
			}
			if got.Source != tocsin.SourceEmail || got.Subject != "Bucket listé" || got.Contact != "finder@example.net" ||
				got.Body != "https://s3.example/backups/ lists its files <script>x</script>" || len(got.Attachments) != 1 ||
				got.Attachments[0] != (tocsin.Attachment{Name: "listing.bin", Type: "application/octet-stream", Size: 10}) {
				t.Errorf("signal %+v", got)
			}
			if got.ReceivedAt.IsZero() || got.ReceivedAt.After(time.Now()) {
				t.Errorf("received at %v", got.ReceivedAt)
			}
			if n, err := w.Poll(ctx); err != nil || n != 0 {
				t.Errorf("second round: %d, %v; want nothing new", n, err)
			}
			if len(allSignals(t, db)) != 3 {
				t.Errorf("%d signals after two rounds, want 3", len(allSignals(t, db)))
			}
		})
	}
}

// TestWorkerAfterACrash: a signal committed whose message was never flagged
// (the process died in between) is flagged on the next round, not doubled.
func TestWorkerAfterACrash(t *testing.T) {
	p := testpeer.StartIMAP(t)
	ctx := context.Background()
	db := openStore(t)
	raw := crlf(bucketReport)
	p.Deliver(t, raw)
	p.Deliver(t, []byte("Subject: no id\r\n\r\nsame text twice\r\n"))
	for _, r := range [][]byte{raw, []byte("Subject: no id\r\n\r\nsame text twice\r\n")} {
		if err := db.CreateSignal(ctx, Actor, ParseMessage(r)); err != nil {
			t.Fatal(err)
		}
	}
	w, err := NewWorker(db, peerConfig(t, p, "tls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := w.Poll(ctx)
	if err != nil || n != 0 {
		t.Fatalf("Poll = %d, %v; want 0 new", n, err)
	}
	if s, u := seen(t, p); s != 2 || u != 0 {
		t.Errorf("%d seen, %d unseen; want both flagged", s, u)
	}
	if len(allSignals(t, db)) != 2 {
		t.Errorf("%d signals, want 2", len(allSignals(t, db)))
	}
}

func TestWorkerRefusals(t *testing.T) {
	p := testpeer.StartIMAP(t)
	db := openStore(t)
	p.Deliver(t, crlf(bucketReport))
	bad := peerConfig(t, p, "tls")
	bad.Password = "wrong"
	tests := []struct {
		name string
		cfg  IMAPConfig
		want string
	}{
		{"wrong password", bad, "login"},
		{"untrusted certificate", func() IMAPConfig { c := peerConfig(t, p, "tls"); c.TLSConfig = nil; return c }(), "certificate"},
		{"no such mailbox", func() IMAPConfig { c := peerConfig(t, p, "tls"); c.Mailbox = "Nowhere"; return c }(), "Nowhere"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWorker(db, tc.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.Poll(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Poll error %v, want one about %q", err, tc.want)
			}
			if strings.Contains(err.Error(), p.Password) {
				t.Errorf("the error shows the password")
			}
		})
	}
	if s, _ := seen(t, p); s != 0 || len(allSignals(t, db)) != 0 {
		t.Errorf("a refused round flagged %d messages, stored %d signals", s, len(allSignals(t, db)))
	}
	if _, err := NewWorker(db, IMAPConfig{Host: "h", Username: "u", TLS: "maybe"}, nil); err == nil {
		t.Error("NewWorker accepted TLS mode maybe")
	}
}

// TestWorkerStartShutdown runs the owned worker: it reads what arrives when
// kicked, and stops when told.
func TestWorkerStartShutdown(t *testing.T) {
	p := testpeer.StartIMAP(t)
	db := openStore(t)
	w, err := NewWorker(db, peerConfig(t, p, "tls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Start(context.Background())
	p.Deliver(t, crlf(bucketReport))
	deadline := time.Now().Add(20 * time.Second)
	for len(allSignals(t, db)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no signal after 20 s\n%s", p.Log())
		}
		w.Kick()
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
