package probe

import (
	"context"
	"errors"
	"fmt"

	"github.com/tocsin-org/tocsin"
)

// errorf makes a failure whose text is shown as it is.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// describe turns a probe error into words a person can act on; the engine
// branch refines it (DNS failures, refused, reset, timeouts).
func describe(ctx context.Context, c *tocsin.Check, err error) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("no complete answer within the timeout of %s", c.Timeout)
	}
	return err.Error()
}
