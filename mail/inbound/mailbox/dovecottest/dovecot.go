// Package dovecottest starts a real Dovecot IMAP server for a test: on
// 127.0.0.1, its own config, users and maildirs in the test's temporary
// folder, stopped when the test ends. Tests skip when Dovecot is not
// installed (.ci/run installs it).
package dovecottest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
)

// Binary is where Debian's dovecot-imapd puts the server.
const Binary = "/usr/sbin/dovecot"

// Server is a running Dovecot with one user.
type Server struct {
	Addr     string // host:port of the IMAP listener: clear text and STARTTLS
	TLSAddr  string // host:port of the IMAPS listener: implicit TLS
	User     string
	Password string
	// Roots trusts the server's self-signed certificate, for 127.0.0.1.
	Roots *x509.CertPool

	dir string
}

// Start runs Dovecot as the current user (when that is root, its login
// and mail processes run as nobody, which Dovecot insists on) and waits
// until it answers. It skips the test when the binary is absent.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary
	if _, err := os.Stat(bin); err != nil {
		if p, lerr := exec.LookPath("dovecot"); lerr == nil {
			bin = p
		} else {
			t.Skipf("dovecot is not installed (%s: %v); apt-get install dovecot-imapd, as .ci/run does, to run this test", Binary, err)
		}
	}
	dir := t.TempDir()
	s := &Server{User: "bounces", Password: "s3cret-imap", dir: dir}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(me.Gid)
	if err != nil {
		t.Fatal(err)
	}
	loginUser, mailUID, mailGID := me.Username, me.Uid, me.Gid
	if me.Uid == "0" {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Skipf("running as root and there is no user nobody for Dovecot's login and mail processes: %v", err)
		}
		loginUser, mailUID, mailGID = nobody.Username, nobody.Uid, nobody.Gid
		// nobody must reach the login sockets and the maildirs.
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range []string{"mail", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(mailUID)
		gid, _ := strconv.Atoi(mailGID)
		if err := os.Chown(filepath.Join(dir, d), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	cert, key, roots := selfSigned(t)
	s.Roots = roots
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	port, tlsPort := freePort(t), freePort(t)
	s.Addr, s.TLSAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
	write("passwd", s.User+":{PLAIN}"+s.Password+"\n", 0o644)
	write("cert.pem", cert, 0o644)
	write("key.pem", key, 0o600)
	conf := write("dovecot.conf", fmt.Sprintf(`
base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = tidings-test-%[2]d
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = %[3]s
default_internal_user = %[4]s
default_internal_group = %[5]s
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:%[1]s/mail/%%u
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %[6]d
    ssl = yes
  }
}
service anvil {
  chroot =
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[7]s gid=%[8]s home=%[1]s/home/%%u
}
`, dir, port, loginUser, me.Username, g.Name, tlsPort, mailUID, mailGID), 0o644)

	cmd := exec.Command(bin, "-F", "-c", conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			t.Errorf("dovecot (pid %d) did not stop on SIGTERM; killed", cmd.Process.Pid)
		}
		// The master's children share its process group: none outlives it.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := client.Dial(s.Addr)
		if err == nil {
			c.Logout()
			break
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("dovecot exited: %v\n%s\n%s", err, out.String(), s.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot did not answer on %s: %v\n%s\n%s", s.Addr, err, out.String(), s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// Log is Dovecot's log so far, for a failing test to print.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "dovecot.log"))
	return string(b)
}

// Dial logs in over clear text, for a test to set up and look.
func (s *Server) Dial(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.ErrorLog = quiet{}
	if err := c.Login(s.User, s.Password); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Logout() })
	return c
}

// Append puts a message into folder, creating the folder if needed.
func (s *Server) Append(t testing.TB, folder string, raw []byte) {
	t.Helper()
	c := s.Dial(t)
	if folder != "INBOX" {
		_ = c.Create(folder) // already there is fine
	}
	if err := c.Append(folder, nil, time.Now(), bytes.NewReader(raw)); err != nil {
		t.Fatalf("append to %s: %v", folder, err)
	}
	c.Logout()
}

// Message is a message in a folder as a test sees it.
type Message struct {
	UID   uint32
	Flags []string
	Body  string
}

// Has reports whether m carries flag.
func (m Message) Has(flag string) bool {
	for _, f := range m.Flags {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}

// Folder lists the messages in folder, oldest first, without marking
// them \Seen; nil when there is no such folder.
func (s *Server) Folder(t testing.TB, folder string) []Message {
	t.Helper()
	c := s.Dial(t)
	defer c.Logout()
	mbox, err := c.Select(folder, true)
	if err != nil {
		return nil
	}
	if mbox.Messages == 0 {
		return []Message{}
	}
	section := &imap.BodySectionName{Peek: true}
	set := new(imap.SeqSet)
	set.AddRange(1, mbox.Messages)
	ch := make(chan *imap.Message, mbox.Messages)
	if err := c.Fetch(set, []imap.FetchItem{imap.FetchUid, imap.FetchFlags, section.FetchItem()}, ch); err != nil {
		t.Fatalf("fetch %s: %v", folder, err)
	}
	var out []Message
	for m := range ch {
		var body []byte
		if l := m.GetBody(section); l != nil {
			body, _ = io.ReadAll(l)
		}
		out = append(out, Message{UID: m.Uid, Flags: m.Flags, Body: string(body)})
	}
	return out
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
func (quiet) Println(...any)        {}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// selfSigned makes a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t testing.TB) (certPEM, keyPEM string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(c)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})), roots
}

// TLSConfig trusts the server's certificate.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.Roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}
