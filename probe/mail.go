package probe

import (
	"context"

	"github.com/tocsin-org/tocsin"
)

func (p *Prober) runMail(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	return errorf("mail checks are not built yet")
}
