package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// TLS modes of SMTPConfig.TLS.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS; refused if the server does not offer it
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // clear text: only to a server on this machine
)

// SMTPConfig is how the e-mail channel reaches its submission server.
type SMTPConfig struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string // never logged: see LogValue
	From     string // "Tocsin <status@example.org>" or a bare address
	TLS      string // "starttls" (the default), "tls" or "none"
	HeloName string // "": this machine's host name
	// Timeout bounds one whole delivery, from dialling to the server's
	// acceptance of the message. 0: 30 seconds.
	Timeout time.Duration
}

// LogValue keeps the password out of logs.
func (c SMTPConfig) LogValue() slog.Value {
	pw := ""
	if c.Password != "" {
		pw = "(set)"
	}
	return slog.GroupValue(
		slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("tls", c.TLS),
		slog.String("username", c.Username), slog.String("password", pw),
		slog.String("from", c.From), slog.String("helo", c.HeloName), slog.Duration("timeout", c.Timeout))
}

// String keeps the password out of %v.
func (c SMTPConfig) String() string { return c.LogValue().String() }

// GoString keeps the password out of %#v.
func (c SMTPConfig) GoString() string { return "notify.SMTPConfig" + c.String() }

// SMTP is the e-mail channel: one message, one recipient, one SMTP
// transaction.
type SMTP struct {
	cfg  SMTPConfig
	from *mail.Address
	now  func() time.Time
	// rootCAs replaces the system's roots; tests set it to trust a test
	// server's certificate.
	rootCAs *x509.CertPool
}

var _ Channel = (*SMTP)(nil)

// NewSMTP returns the e-mail channel with defaults applied; call Validate
// before use.
func NewSMTP(cfg SMTPConfig) *SMTP {
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Port == 0 {
		switch cfg.TLS {
		case TLSImplicit:
			cfg.Port = 465
		case TLSNone:
			cfg.Port = 25
		default:
			cfg.Port = 587
		}
	}
	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
		if h, err := os.Hostname(); err == nil && validHostname(h) {
			cfg.HeloName = h
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	s := &SMTP{cfg: cfg, now: time.Now}
	s.from, _ = mail.ParseAddress(cfg.From)
	return s
}

// String describes the channel without its password.
func (s *SMTP) String() string {
	return fmt.Sprintf("smtp channel (%s)", s.cfg)
}

// Name is tocsin.ChannelEmail.
func (s *SMTP) Name() string { return tocsin.ChannelEmail }

// Validate checks the configuration.
func (s *SMTP) Validate() error {
	c := s.cfg
	invalid := func(format string, args ...any) error {
		return tocsin.Errorf(tocsin.EINVALID, "smtp: "+format, args...)
	}
	switch {
	case c.Host == "":
		return invalid("no host: set the submission server, such as smtp.example.org")
	case !validHostname(c.Host) && net.ParseIP(c.Host) == nil:
		return invalid("host %q is neither a host name nor an IP address", c.Host)
	case c.Port < 1 || c.Port > 65535:
		return invalid("port %d is out of range (1 to 65535)", c.Port)
	case c.TLS != TLSStartTLS && c.TLS != TLSImplicit && c.TLS != TLSNone:
		return invalid("unknown tls mode %q: use starttls, tls or none", c.TLS)
	case c.TLS == TLSNone && !isLoopback(c.Host):
		return invalid(`tls "none" sends mail and password in clear text, so it is only allowed to a server on this machine (localhost, 127.0.0.0/8 or ::1), not %q; use "starttls" or "tls"`, c.Host)
	case s.from == nil || !strings.Contains(s.from.Address, "@"):
		return invalid("from %q is not an e-mail address (expected status@example.org or \"Name <status@example.org>\")", c.From)
	case (c.Username == "") != (c.Password == ""):
		return invalid("set both username and password, or neither")
	case !validHostname(c.HeloName):
		return invalid("helo name %q is not a host name", c.HeloName)
	case c.Timeout < 0:
		return invalid("timeout %v is negative", c.Timeout)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validHostname accepts letters, digits, hyphens and dots (and an
// address literal in brackets, for HELO).
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		return net.ParseIP(h[1:len(h)-1]) != nil
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// Send delivers m to its one recipient. Refusals of the sender, the
// recipient or the message (5xx replies to MAIL, RCPT, DATA) and messages
// that cannot be written are permanent; network errors, timeouts and 4xx
// replies are not. 5xx replies before MAIL (greeting, EHLO, STARTTLS,
// AUTH) are not permanent either: they refuse every message alike, a
// configuration fix makes them pass, and giving up on each message would
// lose them all.
func (s *SMTP) Send(ctx context.Context, m *tocsin.Message) error {
	if err := s.Validate(); err != nil {
		return err
	}
	msg, err := s.compose(m)
	if err != nil {
		return Permanent(fmt.Errorf("smtp: message %d: %w", m.ID, err))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	conn, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer conn.Close()
	// Every read and write stops at the deadline, or at once when ctx is
	// cancelled.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	err = s.transact(conn, msg)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		// The deadline or the cancellation caused it: say so.
		return fmt.Errorf("smtp: %w: %v", ctx.Err(), err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The connection's deadline, which is ctx's, passed a moment
		// before ctx noticed.
		return fmt.Errorf("smtp: %w: %v", context.DeadlineExceeded, err)
	}
	return err
}

func (s *SMTP) dial(ctx context.Context) (net.Conn, error) {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	d := &net.Dialer{}
	if s.cfg.TLS == TLSImplicit {
		td := &tls.Dialer{NetDialer: d, Config: s.tlsConfig()}
		return td.DialContext(ctx, "tcp", addr)
	}
	return d.DialContext(ctx, "tcp", addr)
}

func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.cfg.Host, RootCAs: s.rootCAs, MinVersion: tls.VersionTLS12}
}

// transact runs one SMTP session over conn: EHLO, STARTTLS, AUTH, then
// one MAIL, one RCPT, one DATA.
func (s *SMTP) transact(conn net.Conn, msg *composed) error {
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return sessionError("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HeloName); err != nil {
		return sessionError("EHLO", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("smtp: the server does not offer STARTTLS, and tls is \"starttls\": refusing to send in clear text")
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return sessionError("STARTTLS", err)
		}
	}
	if s.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("smtp: a username is configured but the server does not offer AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return sessionError("AUTH", err)
		}
	}
	if err := c.Mail(msg.from); err != nil {
		return messageError("MAIL FROM", err)
	}
	if err := c.Rcpt(msg.to); err != nil {
		return messageError("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return messageError("DATA", err)
	}
	if _, err := w.Write(msg.data); err != nil {
		return messageError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return messageError("DATA", err)
	}
	// The server has taken the message: a failed QUIT must not cause a
	// second copy.
	_ = c.Quit()
	return nil
}

// sessionError reports a failure before the message's own commands: never
// permanent, since it would refuse any message.
func sessionError(stage string, err error) error {
	return fmt.Errorf("smtp %s: %w", stage, err)
}

// messageError reports a failure of MAIL, RCPT or DATA: permanent on a 5xx
// reply.
func messageError(stage string, err error) error {
	err = fmt.Errorf("smtp %s: %w", stage, err)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code <= 599 {
		return Permanent(err)
	}
	return err
}
