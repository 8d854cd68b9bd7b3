package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// TestServePostsMatrixMessages boots the real program with the matrix
// section set from the environment: a matrix message in the outbox reaches
// the room on a real homeserver, and the access token never reaches the
// log.
func TestServePostsMatrixMessages(t *testing.T) {
	peer := testpeer.StartMatrix(t)
	userID, token := peer.Register(t, "tocsin")
	room := peer.CreateRoom(t, token, "")
	in := newInstance(t, "sqlite").with(smtpEnv(closedPort(t), 100*time.Millisecond)...).with(
		"TOCSIN_MATRIX_HOMESERVER", peer.URL, "TOCSIN_MATRIX_ACCESS_TOKEN", token, "TOCSIN_MATRIX_USER_ID", userID,
		"TOCSIN_LOG_LEVEL", "debug",
	)
	in.addUser("admin@example.org", "admin")
	in.exec(`INSERT INTO messages (key, channel, recipient, subject, body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 0, 0)`,
		"page:e2e", "matrix", room, "SEV1", "Accusez réception.")
	s := in.serve()

	if len(peer.RoomMessagesAtLeast(t, token, room, 1, 30*time.Second)) == 0 {
		t.Fatalf("no message in the room within 30 s\nstderr:\n%s", s.stderr)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("serve ended with %v", err)
	}
	if strings.Contains(s.stderr.String(), token) || !strings.Contains(s.stderr.String(), "message sent") {
		t.Errorf("the log quotes the access token, or shows no delivery:\n%s", s.stderr)
	}
}
