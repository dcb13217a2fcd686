package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// Warnings lists what in a valid config is likely a mistake: the things
// that work but hurt later. path is the config file read ("" for the
// defaults). config check prints them and serve logs them.
func (c *Config) Warnings(path string) []string {
	var w []string
	if path != "" && c.fileHoldsSecrets(path) {
		if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
			w = append(w, fmt.Sprintf("%s holds secrets (smtp.password, http.admin_token or a password in database.url) and others may read it (mode %v): chmod 600 %s, or move the secrets to TIDINGS_SMTP_PASSWORD, TIDINGS_ADMIN_TOKEN and TIDINGS_DATABASE_URL",
				path, info.Mode().Perm(), path))
		}
	}
	for _, p := range c.sqliteFiles() {
		if info, err := os.Stat(p); err == nil && info.Mode().Perm()&0o077 != 0 {
			w = append(w, fmt.Sprintf("%s holds the token secret and subscribers' addresses and others may read it (mode %v): tidings makes it 0600 when it opens it", p, info.Mode().Perm()))
		}
	}
	if strings.TrimSpace(c.Site.PostalAddress) == "" {
		w = append(w, "site.postal_address is empty: the law in many countries (CAN-SPAM, for one) requires a postal address in every bulk mail; set it before mailing subscribers")
	}
	if u, err := url.Parse(c.Site.BaseURL); err == nil && loopbackHost(u.Hostname()) {
		if mismatch(u, c.HTTP.Listen) {
			w = append(w, fmt.Sprintf("site.base_url %q points at this machine but not at http.listen %q: every link in mail and feeds would point nowhere; set site.base_url to http://%s",
				c.Site.BaseURL, c.HTTP.Listen, c.HTTP.Listen))
		}
	}
	if m := c.Inbound.IMAP; m.Host != "" && m.Password == "" {
		w = append(w, fmt.Sprintf("inbound.imap: %s is not set in the environment: the mailbox %s on %s cannot be read until it holds the password",
			m.PasswordEnv, m.Username, m.Host))
	}
	return w
}

// fileHoldsSecrets reports whether the config file itself (not the
// environment) sets a secret.
func (c *Config) fileHoldsSecrets(path string) bool {
	var inFile Config
	b, err := os.ReadFile(path)
	if err != nil || decodeConfig(b, &inFile) != nil {
		return false
	}
	return inFile.SMTP.Password != "" || inFile.HTTP.AdminToken != "" || hasPassword(inFile.Database.URL)
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// mismatch reports whether the base URL's port differs from the one the
// server listens on.
func mismatch(base *url.URL, listen string) bool {
	_, lport, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	port := base.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[base.Scheme]
	}
	return port != lport
}

// sqliteFiles are the SQLite database's files; none with a database URL.
func (c *Config) sqliteFiles() []string {
	if !c.Database.SQLite() {
		return nil
	}
	return []string{c.Database.Path, c.Database.Path + "-wal", c.Database.Path + "-shm"}
}

// hasPassword reports whether a database URL carries a password.
func hasPassword(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return false
	}
	_, ok := u.User.Password()
	return ok || u.Query().Has("password")
}
