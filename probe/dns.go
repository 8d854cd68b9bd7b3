package probe

import (
	"context"

	"github.com/tocsin-org/tocsin"
)

func (p *Prober) runDNS(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	return errorf("dns checks are not built yet")
}
