package proc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestChild(t *testing.T) {
	log := filepath.Join(t.TempDir(), "child.log")
	c, err := StartChild(exec.Command("sh", "-c", "echo started; exec sleep 30"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if err := c.Alive(); err != nil {
		t.Fatalf("Alive: %v", err)
	}
	if name, ok := Children(os.Getpid())[c.Pid()]; !ok {
		t.Errorf("Children does not list the child %d", c.Pid())
	} else if name != "sh" && name != "sleep" {
		t.Errorf("child named %q, want sh or sleep", name)
	}
	rss, peak, err := Memory(c.Pid())
	if err != nil || rss <= 0 || peak < rss {
		t.Errorf("Memory = %d, %d, %v; want 0 < rss <= peak", rss, peak, err)
	}
	// Stopped before sh has run echo, the child would leave an empty log: wait for the line.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(Tail(log, 1), "started"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the child wrote no 'started' to its log: %q", Tail(log, 5))
		}
	}
	c.Stop()
	err = c.Alive()
	if err == nil {
		t.Fatal("Alive after Stop: want the exit")
	}
	if !strings.Contains(err.Error(), "started") {
		t.Errorf("Alive's error %q lacks the end of the log", err)
	}
	if _, _, err := Memory(c.Pid()); err == nil {
		t.Error("Memory of a stopped child: want an error")
	}
}
