package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

// A listener hears "" once it listens (what came before is missed), then
// every notice of its channel, including another connection's.
func TestListen_HearsNoticesAfterAnEmptyOne(t *testing.T) {
	url := databasetest.NewPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	heard := make(chan string, 10)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Listen(lctx, "tidings_test", func(p string) { heard <- p })
	}()
	if p := <-heard; p != "" {
		t.Fatalf("first call %q, want \"\"", p)
	}
	if err := b.Notify(ctx, "tidings_other", "no"); err != nil {
		t.Fatal(err)
	}
	if err := b.Notify(ctx, "tidings_test", "instance-b"); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-heard:
		if p != "instance-b" {
			t.Errorf("heard %q, want instance-b", p)
		}
	case <-ctx.Done():
		t.Fatal("no notice heard")
	}
	stop()
	<-done
}
