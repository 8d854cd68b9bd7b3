package testpeer_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tocsin-org/tocsin/internal/testpeer"
)

func TestChromium(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>peer</title><p id="p">hello from `+r.URL.Path+`</p>`)
	}))
	defer srv.Close()

	var pid int
	var args []string
	t.Run("browse", func(t *testing.T) {
		ctx := testpeer.Chromium(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/page")); err != nil {
			t.Fatal(err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("p")))
		if err != nil {
			t.Fatal(err)
		}
		if text != "hello from /page" {
			t.Errorf("page text = %q, want %q", text, "hello from /page")
		}
		pid = chromedp.FromContext(ctx).Browser.Process().Pid
		cmdline, err := os.ReadFile(filepath.Join("/proc", fmt.Sprint(pid), "cmdline"))
		if err != nil {
			t.Fatal(err)
		}
		args = strings.Split(string(bytes.TrimRight(cmdline, "\x00")), "\x00")
	})
	if pid == 0 {
		t.Fatal("the browser did not start")
	}

	// The browser runs with the switches that keep it off the network.
	for _, want := range []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
	} {
		found := false
		for _, a := range args {
			found = found || a == want
		}
		if !found {
			t.Errorf("chromium runs without %s: %q", want, args)
		}
	}
	profile := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--user-data-dir="); ok {
			profile = v
		}
	}
	if profile == "" {
		t.Errorf("chromium runs without its own --user-data-dir: %q", args)
	}

	// When the test is over, the browser and its children are gone.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("browser process %d still exists after its test ended (kill 0: %v)", pid, err)
	}
	if profile != "" {
		if _, err := os.Stat(profile); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("profile %s still exists after its test ended (%v)", profile, err)
		}
	}
}
