package inbound

import "testing"

func TestFindStatus(t *testing.T) {
	for in, want := range map[string]string{
		"550 5.1.1 <a@example.com>: unknown":                "5.1.1",
		"550-5.2.2 The recipient's inbox is out of storage": "5.2.2",
		"lists.example.com. (#5.1.2)":                       "5.1.2",
		"#550 5.1.10 RESOLVER.ADR.RecipientNotFound":        "5.1.10",
		"host 192.0.2.153 said no":                          "",
		"from 10.5.1.1 port 25":                             "",
		"Microsoft SMTP Server id 15.20.7452.28":            "",
		"version 4.2.1.9":                                   "",
		"Exim 4.97":                                         "",
		"status 4.4.7, retry timeout":                       "4.4.7",
		"2.0.0 Ok":                                          "2.0.0",
		"5.1.1234 too long a detail":                        "",
	} {
		if got := findStatus(in); got != want {
			t.Errorf("findStatus(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHardBounce(t *testing.T) {
	for _, c := range []struct {
		status, diag string
		permanent    bool
		want         bool
	}{
		{"5.1.1", "", false, true},
		{"5.1.10", "", false, true},
		{"5.4.4", "", false, true},
		{"5.2.2", "", false, false}, // mailbox full
		{"5.7.1", "", false, false}, // policy
		{"5.7.26", "", false, false},
		{"4.4.7", "", true, false},
		{"5.0.0", "mailbox is full: retry timeout exceeded", false, false},
		{"5.0.0", "blocked using Spamhaus", false, false},
		{"5.0.0", "", false, true},
		{"", "550 Unknown user", false, true},
		{"", "552 Requested mail action aborted: exceeded storage allocation", false, false},
		{"", "451 try later", false, false},
		{"", "no code at all", false, false},
		{"", "no code at all", true, true},
	} {
		if got := hardBounce(c.status, c.diag, c.permanent); got != c.want {
			t.Errorf("hardBounce(%q, %q, %v) = %v, want %v", c.status, c.diag, c.permanent, got, c.want)
		}
	}
}

func TestCleanAddress(t *testing.T) {
	for in, want := range map[string]string{
		"rfc822; ada@example.com":   "ada@example.com",
		"RFC822;<ada@example.com>":  "ada@example.com",
		"Ada <ada@example.com>":     "ada@example.com",
		"ada@example.com (comment)": "ada@example.com",
		"<mailto:ada@example.com>":  "ada@example.com",
		"ada@example.com.":          "ada@example.com",
		"rfc822;/var/mail/ada":      "",
		"none of your business":     "",
		"<>":                        "",
		"ada@localhost":             "",
		"a b@example.com":           "", // free text is for findAddresses
		"ada@exa_mple.com":          "",
	} {
		if got := cleanAddress(in); got != want {
			t.Errorf("cleanAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMessageID(t *testing.T) {
	for in, want := range map[string]string{
		"<e12.s34.0123456789abcdef@example.org>": "<e12.s34.0123456789abcdef@example.org>",
		" <a@b> (comment)":                       "<a@b>",
		"8787KJKJ3K4J3K4J3K4J3.mail@example.net": "<8787KJKJ3K4J3K4J3K4J3.mail@example.net>", // RFC 5965's own example lacks brackets
		"<no-at-sign>":                           "",
		"<a b@c>":                                "",
		"":                                       "",
	} {
		if got := messageID(in); got != want {
			t.Errorf("messageID(%q) = %q, want %q", in, got, want)
		}
	}
}
