package arena

import "github.com/tickroom/tickroom/rooms"

// Rounds. With Options.Round > 0 play is cut into rounds of Round seconds,
// each followed by Break seconds in which the winner is shown and no coin
// can be picked up; the next round starts with every score at 0.
//
// Where a round stands is a function of the tick alone: with R play ticks
// and P = R + B ticks a period, round k (from 0) plays ticks k*P+1 ..
// k*P+R and breaks until (k+1)*P. So there is no round state to save or
// send: a checkpoint, a replay and a client (which knows the tick, the tick
// rate and the options from its welcome) all agree on it, and a room
// restored from a checkpoint taken before rounds existed simply joins the
// round its tick falls in. client/pages/round.ts computes the same.

// roundClock is Options' rounds in ticks; play == 0 means no rounds.
type roundClock struct{ play, period uint64 }

func (o Options) rounds() roundClock {
	if o.Round == 0 {
		return roundClock{}
	}
	play := uint64(o.Round) * TickRate
	return roundClock{play: play, period: play + uint64(o.Break)*TickRate}
}

// roundAt says where tick (>= 1) stands: the round's number from 1, and
// how many ticks of play are left after this one (playing false: the tick
// is in the break after round n). Without rounds every tick is play in
// round 1.
func (c roundClock) roundAt(tick uint64) (n uint64, left uint64, playing bool) {
	if c.play == 0 || tick == 0 {
		return 1, 0, true
	}
	k, o := (tick-1)/c.period, (tick-1)%c.period
	if o < c.play {
		return k + 1, c.play - 1 - o, true
	}
	return k + 1, 0, false
}

// startsRound reports whether tick is the first of a round after the first.
func (c roundClock) startsRound(tick uint64) bool {
	return c.play != 0 && tick > c.period && (tick-1)%c.period == 0
}

// RoundOver is the data of the custom event sent on a round's last tick.
type RoundOver struct {
	Kind  string `payload:"kind,const=round_over"`
	Round int64  `payload:"round" doc:"the round that ended, from 1"`
	// Winner is 0 when nobody scored or several share the top score.
	Winner uint32 `payload:"winner" doc:"the member with the highest score, 0 for a draw or when nobody scored"`
	Name   string `payload:"name" doc:"the winner's name, empty without a winner"`
	Score  int64  `payload:"score" doc:"the top score of the round"`
}

// newRound resets every score for the round that starts on this tick.
func (g *game) newRound() {
	for _, p := range g.players {
		p.avatar.SetInt(FieldScore, 0)
	}
}

// endRound announces round n's winner: the one avatar with the highest
// score, if it is above 0. A tie at the top is a draw (Winner 0), since no
// order among members is fair to friends. The page shows the same from
// the frozen scores of the break.
func (g *game) endRound(ctx *rooms.Context, n uint64) {
	var top int64
	var best *player
	draw := false
	for _, p := range g.players {
		switch s := p.avatar.Int(FieldScore); {
		case s > top:
			top, best, draw = s, p, false
		case s == top && s > 0:
			draw = true
		}
	}
	over := RoundOver{Round: int64(n), Score: top}
	if best != nil && !draw {
		over.Winner, over.Name = best.member.Number, best.member.Name
	}
	ctx.Emit(Events.Map(over))
}
