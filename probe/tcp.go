package probe

import (
	"context"

	"github.com/tocsin-org/tocsin"
)

func (p *Prober) runTCP(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	return errorf("tcp checks are not built yet")
}
