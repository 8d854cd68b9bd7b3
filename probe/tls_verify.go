package probe

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// spkiSHA256 is the hex SHA-256 of the certificate's public key info: it
// stays the same when a certificate is renewed with the same key, and
// changes only when the key does.
func spkiSHA256(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// shortName names a certificate's subject or issuer as a person knows it:
// its common name, else its first organisation, else the whole name.
func shortName(n pkix.Name) string {
	switch {
	case n.CommonName != "":
		return printable(n.CommonName, 100)
	case len(n.Organization) > 0 && n.Organization[0] != "":
		return printable(n.Organization[0], 100)
	}
	return printable(n.String(), 100)
}

// printable keeps a name from a certificate, which anyone can write, fit
// for a message on one line: control characters and invalid UTF-8 are
// escaped, and it is cut at limit characters.
func printable(s string, limit int) string {
	var b strings.Builder
	n := 0
	for i, r := range s {
		if n == limit {
			b.WriteString("…")
			break
		}
		n++
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// verifyWords verifies the served chain (leaf first) for name against
// roots (the system's when nil) at now, and says what is wrong in words a
// person can act on, every problem at once ("" when none): a certificate
// that expired and is for another name is told both.
func verifyWords(chain []*x509.Certificate, name string, roots *x509.CertPool, now time.Time) string {
	leaf := chain[0]
	var problems []string
	switch {
	case now.After(leaf.NotAfter):
		problems = append(problems, fmt.Sprintf("the certificate expired on %s (%s ago)", day(leaf.NotAfter), days(now.Sub(leaf.NotAfter))))
	case now.Before(leaf.NotBefore):
		problems = append(problems, fmt.Sprintf("the certificate is not valid before %s (in %s): check the server's clock, or wait", day(leaf.NotBefore), days(leaf.NotBefore.Sub(now))))
	}
	if name != "" {
		if err := leaf.VerifyHostname(name); err != nil {
			problems = append(problems, fmt.Sprintf("the certificate is for %s, not %s", certNames(leaf), printable(name, 300)))
		}
	}
	// The chain is verified at a moment inside the leaf's validity, so that
	// an expired leaf is not told twice and an expired intermediate still is.
	at := now
	if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	} else if at.Before(leaf.NotBefore) {
		at = leaf.NotBefore
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool(), CurrentTime: at}
	for _, c := range chain[1:] {
		if c != nil {
			opts.Intermediates.AddCert(c)
		}
	}
	if _, err := leaf.Verify(opts); err != nil {
		problems = append(problems, chainWords(err, leaf, now))
	}
	return strings.Join(problems, "; ")
}

// chainWords words an error of x509's chain verification.
func chainWords(err error, leaf *x509.Certificate, now time.Time) string {
	var (
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		sysRoot x509.SystemRootsError
	)
	switch {
	case errors.As(err, &unknown):
		if isSelfSigned(leaf) {
			return fmt.Sprintf("the certificate is self-signed (%s), and browsers do not trust it: serve one from a public CA, or give ca_file if you trust it", shortName(leaf.Subject))
		}
		return fmt.Sprintf("the certificate is signed by an unknown authority (issuer %s): the server may not send its intermediate certificate, or the CA is private (give ca_file)", shortName(leaf.Issuer))
	case errors.As(err, &sysRoot):
		return "no root certificates to verify against on this machine: install the ca-certificates package, or give ca_file"
	case errors.As(err, &invalid):
		who := "a certificate of the chain"
		if invalid.Cert != nil {
			who = "the chain's certificate " + shortName(invalid.Cert.Subject)
		}
		switch invalid.Reason {
		case x509.Expired:
			if invalid.Cert != nil && now.After(invalid.Cert.NotAfter) {
				return fmt.Sprintf("%s expired on %s (%s ago)", who, day(invalid.Cert.NotAfter), days(now.Sub(invalid.Cert.NotAfter)))
			}
			return who + " is outside its validity period"
		case x509.NotAuthorizedToSign:
			return who + " is not a CA, yet it signed another certificate"
		case x509.IncompatibleUsage:
			return "the certificate is not meant for TLS servers (its extended key usage)"
		case x509.CANotAuthorizedForThisName, x509.NameConstraintsWithoutSANs, x509.UnconstrainedName:
			return "a CA of the chain may not issue certificates for this name (name constraints)"
		case x509.TooManyIntermediates:
			return "the chain is longer than its CA allows"
		}
	}
	return "the certificate chain does not verify: " + printable(err.Error(), 300)
}

// isSelfSigned reports whether c names itself as issuer and is signed by its
// own key.
func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// certNames lists the names a certificate is for (at most five).
func certNames(c *x509.Certificate) string {
	var names []string
	for _, n := range c.DNSNames {
		names = append(names, printable(n, 100))
	}
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		if c.Subject.CommonName == "" {
			return "no name at all"
		}
		// Browsers ignore the common name; say where the name is.
		return printable(c.Subject.CommonName, 100) + " (in its common name only, which browsers ignore)"
	}
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("%d more", len(names)-5))
	}
	return strings.Join(names, ", ")
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// days words a duration in whole days ("3 days"), or in hours under one.
func days(d time.Duration) string {
	switch n := int(d.Hours() / 24); {
	case n >= 2:
		return fmt.Sprintf("%d days", n)
	case n == 1:
		return "1 day"
	}
	if h := int(d.Hours()); h >= 1 {
		if h == 1 {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", h)
	}
	return "less than an hour"
}
