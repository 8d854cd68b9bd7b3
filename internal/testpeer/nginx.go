package testpeer

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NginxPeer is Debian's nginx serving HTTPS on 127.0.0.1 from a temporary
// prefix, with a certificate the test replaces (Reload) as an operator
// would: new files, then SIGHUP to the master.
type NginxPeer struct {
	Addr string // 127.0.0.1:port
	Dir  string
	proc *process
}

// NginxOptions are nginx's ssl_protocols and ssl_ciphers (OpenSSL's
// words); empty means nginx's defaults. OpenSSL refuses TLS 1.0 and 1.1
// below @SECLEVEL=0, which a cipher string can ask for.
type NginxOptions struct {
	Protocols string // "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"
	Ciphers   string // "DEFAULT:@SECLEVEL=0"
}

// StartNginx serves cert until the test ends.
func StartNginx(t testing.TB, cert tls.Certificate, opts NginxOptions) *NginxPeer {
	t.Helper()
	bin, err := findProgram("nginx")
	if err != nil {
		unavailable(t, "nginx: %v (apt-get install nginx)", err)
		return nil
	}
	dir := t.TempDir()
	var lastErr error
	for range 3 { // a port taken between picking and listening: pick again
		p, err := startNginx(bin, dir, cert, opts)
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
	t.Fatalf("testpeer: nginx did not start: %v", lastErr)
	return nil
}

func startNginx(bin, dir string, cert tls.Certificate, opts NginxOptions) (*NginxPeer, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	p := &NginxPeer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])), Dir: dir}
	if err := p.writeCert(cert); err != nil {
		return nil, err
	}
	var tlsConf bytes.Buffer
	if opts.Protocols != "" {
		fmt.Fprintf(&tlsConf, "ssl_protocols %s;\n", opts.Protocols)
	}
	if opts.Ciphers != "" {
		fmt.Fprintf(&tlsConf, "ssl_ciphers %s;\n", opts.Ciphers)
	}
	conf := fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/client_body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen %[2]s ssl;
		ssl_certificate %[1]s/cert.pem;
		ssl_certificate_key %[1]s/key.pem;
		%[3]s
		location / { return 200 "ok\n"; }
	}
}
`, dir, p.Addr, tlsConf.String())
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	p.proc, err = startProcess("nginx", filepath.Join(dir, "nginx.out"), bin,
		"-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	if err != nil {
		return nil, err
	}
	if err := p.waitServing(cert, 10*time.Second); err != nil {
		_ = p.proc.stop(5 * time.Second)
		return nil, fmt.Errorf("%v; its log: %s", err, p.Log())
	}
	return p, nil
}

// Reload makes nginx serve cert, and returns once it does.
func (p *NginxPeer) Reload(t testing.TB, cert tls.Certificate) {
	t.Helper()
	if err := p.writeCert(cert); err != nil {
		t.Fatalf("testpeer: nginx certificate: %v", err)
	}
	if err := syscall.Kill(p.proc.cmd.Process.Pid, syscall.SIGHUP); err != nil {
		t.Fatalf("testpeer: nginx reload: %v", err)
	}
	if err := p.waitServing(cert, 10*time.Second); err != nil {
		t.Fatalf("testpeer: nginx reload: %v; its log: %s", err, p.Log())
	}
}

// Log is nginx's error log, for failures.
func (p *NginxPeer) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "error.log"))
	return lastLines(b, 20)
}

func (p *NginxPeer) writeCert(cert tls.Certificate) error {
	var certPEM []byte
	for _, der := range cert.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return err
	}
	// Written beside and renamed, so that a reload never reads half a file.
	for name, data := range map[string][]byte{
		"cert.pem": certPEM,
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	} {
		tmp := filepath.Join(p.Dir, name+".new")
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(p.Dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// waitServing waits until a handshake shows cert's serial.
func (p *NginxPeer) waitServing(cert tls.Certificate, timeout time.Duration) error {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	lastErr := fmt.Errorf("not serving yet")
	for time.Now().Before(deadline) {
		if p.proc.exited() {
			return fmt.Errorf("nginx exited: %v", p.proc.err)
		}
		d := &net.Dialer{Timeout: time.Second}
		c, err := tls.DialWithDialer(d, "tcp", p.Addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, CipherSuites: allSuiteIDs()})
		if err == nil {
			served := c.ConnectionState().PeerCertificates[0].SerialNumber
			c.Close()
			// Workers of the previous configuration keep accepting while
			// they wind down: wait until only the master and its one new
			// worker are left.
			if served.Cmp(leaf.SerialNumber) == 0 && groupSize(p.proc.cmd.Process.Pid) == 2 {
				return nil
			}
			lastErr = fmt.Errorf("still serving serial %x, not %x", served, leaf.SerialNumber)
		} else {
			lastErr = err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return lastErr
}

func allSuiteIDs() []uint16 {
	var ids []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids = append(ids, s.ID)
	}
	return ids
}

// groupSize counts the live processes of process group pgid.
func groupSize(pgid int) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// After the command's name in parentheses: state, ppid, pgrp.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			n++
		}
	}
	return n
}
