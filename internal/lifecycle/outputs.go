package lifecycle

import (
	"context"
	"errors"
	"fmt"

	"github.com/ffbatch/ffbatch/internal/request"
)

// OutputOwner is who writes an output blob: one input blob with one
// preset. Every version and request of that pair may write it; any other
// pair needs the request's overwrite flag, which hands the output over.
type OutputOwner struct {
	Output    string `json:"output"`
	Container string `json:"container"`
	Blob      string `json:"blob"`
	Preset    string `json:"preset"`
	// Request is the request that claimed it.
	Request string `json:"request"`
}

func (o OutputOwner) same(p OutputOwner) bool {
	return o.Container == p.Container && o.Blob == p.Blob && o.Preset == p.Preset
}

// ClaimOutput makes o the owner of o.Output unless another owner holds it
// and overwrite is false; then it returns that owner and writes nothing.
func (s *Store) ClaimOutput(ctx context.Context, o OutputOwner, overwrite bool) (*OutputOwner, error) {
	name := OutputPrefix + request.Hash(o.Output) + ".json"
	for range maxUpdateAttempts {
		var cur OutputOwner
		etag, err := s.read(ctx, name, &cur)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("claim output %s: %w", o.Output, err)
		}
		if etag != nil && cur.same(o) {
			return nil, nil
		}
		if etag != nil && !overwrite {
			return &cur, nil
		}
		done, err := s.write(ctx, name, o, nil, etag)
		if err != nil {
			return nil, fmt.Errorf("claim output %s: %w", o.Output, err)
		}
		if done {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("claim output %s: gave up after %d conflicting writes", o.Output, maxUpdateAttempts)
}
