package subscribers

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/tidings/tidings/internal/database"
)

// minSecretLen is the shortest secret accepted from the environment: a
// shorter one could be guessed offline from a single mailed link.
const minSecretLen = 16

// LoadSecret returns the key that signs tokens. A non-empty fromEnv (the
// operator's TIDINGS_TOKEN_SECRET, say) is used as it is; otherwise the
// database keeps one, generated on first use, so links stay valid across
// restarts and every process on the database agrees.
func LoadSecret(ctx context.Context, db *database.DB, fromEnv string) ([]byte, error) {
	if fromEnv != "" {
		if len(fromEnv) < minSecretLen {
			return nil, fmt.Errorf("token secret: %d characters given, use at least %d (32 random ones, say)", len(fromEnv), minSecretLen)
		}
		return []byte(fromEnv), nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	// INSERT OR IGNORE, then read back: when two processes start at once,
	// the first insert wins and both use it.
	if _, err := db.Write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('token_secret', ?) ON CONFLICT DO NOTHING`,
		hex.EncodeToString(fresh)); err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	var v string
	if err := db.Write.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'token_secret'`).Scan(&v); err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	secret, err := hex.DecodeString(v)
	if err != nil || len(secret) < minSecretLen {
		return nil, errors.New("token secret: the settings table holds a damaged token_secret: delete that row to make a new one (mailed links stop working)")
	}
	return secret, nil
}

// OldUnsubscribeMax returns the highest id whose unsubscribe links were
// mailed in the old token format (see Tokens.AcceptOldUnsubscribe); 0
// when there were none.
func OldUnsubscribeMax(ctx context.Context, db *database.DB) (int64, error) {
	var v string
	err := db.Read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'token_v1_unsubscribe_max_id'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("old unsubscribe links: %w", err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("old unsubscribe links: settings holds %q", v)
	}
	return n, nil
}
