package admin

import (
	"strings"
	"testing"
)

func TestPassword_HashVerify(t *testing.T) {
	h, err := HashPassword("s3cret password", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("not a PHC argon2id string: %s", h)
	}
	h2, _ := HashPassword("s3cret password", cheap)
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for pw, want := range map[string]bool{"s3cret password": true, "s3cret passwor": false, "": false, "S3cret password": false} {
		if ok, err := VerifyPassword(h, pw); err != nil || ok != want {
			t.Errorf("verify %q: %v, %v; want %v", pw, ok, err, want)
		}
	}
	// The params come from the hash, so a change of defaults keeps old hashes.
	d, _ := HashPassword("pw", DefaultParams)
	if ok, _ := VerifyPassword(d, "pw"); !ok || !strings.Contains(d, "m=19456,t=2,p=1") {
		t.Errorf("default-params hash %s does not verify", d)
	}
}

func TestPassword_BadHash(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$c2hvcnQ"} {
		if ok, err := VerifyPassword(h, "pw"); ok || err != ErrBadHash {
			t.Errorf("%q: %v, %v; want ErrBadHash", h, ok, err)
		}
	}
}
