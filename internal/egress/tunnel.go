package egress

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// relay copies both ways between client and target until both directions
// end, one fails, or neither carried a byte for idle; then closes both.
//
// Copies are plain io.Copy between the raw connections so that on Linux
// *net.TCPConn (and unix sockets) use splice(2) and bytes never enter user
// space. Idle detection uses read deadlines only, renewed every idle/2:
// a read deadline never loses data, while a write deadline could cut a
// spliced chunk in half. A direction whose peer stops reading is unblocked
// when the other direction declares the tunnel idle and closes both ends.
func relay(client, target net.Conn, idle time.Duration, up, down *atomic.Int64) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			_ = client.Close()
			_ = target.Close()
		})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn, n *atomic.Int64) {
		defer wg.Done()
		for {
			_ = src.SetReadDeadline(time.Now().Add(idle / 2))
			c, err := io.Copy(dst, src)
			n.Add(c)
			if c > 0 {
				last.Store(time.Now().UnixNano())
			}
			switch {
			case err == nil: // EOF: pass the half-close on
				if cw, ok := dst.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
					return
				}
				closeBoth()
				return
			case errors.Is(err, os.ErrDeadlineExceeded) &&
				time.Since(time.Unix(0, last.Load())) < idle:
				continue
			default:
				closeBoth()
				return
			}
		}
	}
	go pipe(target, client, up)
	go pipe(client, target, down)
	wg.Wait()
	closeBoth()
}
