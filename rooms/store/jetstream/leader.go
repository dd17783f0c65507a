package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// LeaderGet reads the last message on subject from stream, answered by
// the stream's leader. A key-value bucket's reads are direct gets, which
// any replica may answer, a little behind the leader: a row read through
// another NATS server right after its Put was not found 13 times in 500
// (a join through another node right after the room's creation got 4004).
// It returns jetstream.ErrMsgNotFound when the subject has no message.
func LeaderGet(ctx context.Context, nc *nats.Conn, stream, subject string) (*jetstream.RawStreamMsg, error) {
	body, _ := json.Marshal(struct {
		LastBySubject string `json:"last_by_subj"`
	}{subject}) // plain struct: never fails
	m, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+stream, body)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", subject, err)
	}
	var resp struct {
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
		Message *struct {
			Subject string    `json:"subject"`
			Seq     uint64    `json:"seq"`
			Header  []byte    `json:"hdrs"`
			Data    []byte    `json:"data"`
			Time    time.Time `json:"time"`
		} `json:"message"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return nil, fmt.Errorf("get %s: %w", subject, err)
	}
	if resp.Error != nil {
		if resp.Error.ErrCode == int(jetstream.JSErrCodeMessageNotFound) {
			return nil, jetstream.ErrMsgNotFound
		}
		return nil, fmt.Errorf("get %s: %s (%d)", subject, resp.Error.Description, resp.Error.ErrCode)
	}
	if resp.Message == nil {
		return nil, errors.New("get " + subject + ": empty answer")
	}
	var hdr nats.Header
	if len(resp.Message.Header) > 0 {
		if hdr, err = nats.DecodeHeadersMsg(resp.Message.Header); err != nil {
			return nil, fmt.Errorf("get %s: %w", subject, err)
		}
	}
	return &jetstream.RawStreamMsg{Subject: resp.Message.Subject, Sequence: resp.Message.Seq, Header: hdr,
		Data: resp.Message.Data, Time: resp.Message.Time}, nil
}

// KVGet reads a key of a bucket from its stream's leader: its value and
// revision, or found false when it has none (never put, deleted, purged or
// expired).
func KVGet(ctx context.Context, nc *nats.Conn, bucket, key string) (value []byte, rev uint64, found bool, err error) {
	m, err := LeaderGet(ctx, nc, "KV_"+bucket, "$KV."+bucket+"."+key)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, err
	}
	if m.Header.Get("KV-Operation") != "" || m.Header.Get(jetstream.MarkerReasonHeader) != "" {
		return nil, m.Sequence, false, nil // a delete, purge or expiry marker
	}
	return m.Data, m.Sequence, true, nil
}

// Ready reports whether JetStream answers at url and, with replicas over
// one, can place a stream of that many replicas (a cluster whose servers
// have not all joined answers, then refuses "no suitable peers for
// placement"): what a test or a load run waits for before starting nodes.
func Ready(url string, replicas int) error {
	nc, err := nats.Connect(url, nats.Timeout(time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil || replicas <= 1 {
		return err
	}
	const probe = "tickroom_ready_probe"
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: probe, Subjects: []string{"tickroom-ready.probe"},
		Replicas: replicas, Storage: jetstream.MemoryStorage, MaxMsgs: 1}); err != nil {
		return err
	}
	return js.DeleteStream(ctx, probe)
}
