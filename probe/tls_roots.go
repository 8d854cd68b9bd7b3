package probe

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// maxCAFile bounds a ca_file: a bundle of every public root is about
// 200 KB, so anything much larger is the wrong file.
const maxCAFile = 4 << 20

// loadCAFile reads a check's ca_file: PEM certificates to verify against
// instead of the system's roots.
func loadCAFile(path string) (*x509.CertPool, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("ca_file %s does not exist", path)
		}
		return nil, fmt.Errorf("ca_file %s cannot be read: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxCAFile+1)); err != nil {
		return nil, fmt.Errorf("ca_file %s cannot be read: %v", path, err)
	}
	if buf.Len() > maxCAFile {
		return nil, fmt.Errorf("ca_file %s is larger than %d MB: give a file of PEM certificates", path, maxCAFile>>20)
	}
	pool, err := parseCAPEM(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("ca_file %s: %v", path, err)
	}
	return pool, nil
}

// parseCAPEM reads PEM certificates into a pool. Blocks that are not
// certificates (a private key pasted by mistake) and certificates that do
// not parse are errors, so that a wrong file is told at once instead of
// verifying against fewer roots than intended.
func parseCAPEM(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		n++
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("block %d is a %q, not a CERTIFICATE: give only the CA's certificates (never a private key)", n, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", n, err)
		}
		pool.AddCert(cert)
	}
	if n == 0 {
		return nil, errors.New("holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA's certificate in PEM")
	}
	return pool, nil
}
