//go:build !race

package schemas

// raceEnabled reports a -race build, where allocation counts are not
// those of a normal build.
const raceEnabled = false
