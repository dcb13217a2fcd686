-- The web admin: operator accounts, their sessions, the audit log and the
-- login failures the rate limit counts. Owned by internal/admin.
-- Times are Unix nanoseconds (UTC).

CREATE TABLE admin_accounts (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
	-- A PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$hash
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	changed_at    INTEGER NOT NULL
);

-- One row per logged-in browser. The cookie holds a random id; only its
-- SHA-256 is stored, so a copy of the database logs nobody in.
CREATE TABLE admin_sessions (
	id_hash    TEXT PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES admin_accounts (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	seen_at    INTEGER NOT NULL,
	ip         TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT ''
);

CREATE INDEX admin_sessions_account ON admin_sessions (account_id);

-- Append-only: who did what, when, from where. account is the address as
-- it was, so the entry outlives the account.
CREATE TABLE admin_audit (
	id      INTEGER PRIMARY KEY,
	at      INTEGER NOT NULL,
	account TEXT NOT NULL DEFAULT '',
	action  TEXT NOT NULL,
	detail  TEXT NOT NULL DEFAULT '',
	ip      TEXT NOT NULL DEFAULT ''
);

-- Failed logins counted per key: 'pair' (account and IP), 'ip' and
-- 'account'. known marks a pair that has logged in before.
CREATE TABLE admin_login_failures (
	kind     TEXT NOT NULL CHECK (kind IN ('pair', 'ip', 'account')),
	key      TEXT NOT NULL,
	failures INTEGER NOT NULL DEFAULT 0,
	last_at  INTEGER NOT NULL DEFAULT 0,
	known    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (kind, key)
);
