package probe

import (
	"context"

	"github.com/tocsin-org/tocsin"
)

func (p *Prober) runBucket(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	return errorf("bucket checks are not built yet")
}
