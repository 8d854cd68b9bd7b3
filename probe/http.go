package probe

import (
	"context"

	"github.com/tocsin-org/tocsin"
)

// runHTTP is written by the engine branch.
func (p *Prober) runHTTP(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	return errorf("http checks are not built yet")
}
