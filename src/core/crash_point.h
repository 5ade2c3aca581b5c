// Test-only hooks for showing that a run survives a fault at any instant, including the few
// milliseconds inside a checkpoint write that random timing rarely hits.
//
//   ALEXNET_TEST_CRASH_AT=<point>[:<n>]   kill this process with SIGKILL the n-th time (default:
//                                         the first) it passes crash_point("<point>")
//   ALEXNET_TEST_SIGNAL_AT=<point>[:<n>]=<SIGINT|SIGTERM>[,...]
//                                         raise that signal in this process the n-th time it
//                                         passes the point, say so on stderr, and go on; a list
//                                         raises several (at one pass: in the order listed)
//
// raise() runs the handler (core/stop_signals.h) before it returns, on the thread that passed
// the point, so the signal lands exactly there; where no handler is installed the signal's
// default action ends the process, as it would for a `kill` from outside. Without the variables
// every crash_point() is a no-op. The points:
//   step                after a training step and its metrics row, before the next
//   metrics-row         just after a metrics/steps.csv row is flushed
//   epoch-end           at an epoch's end, its metrics row written, before its checkpoint
//   checkpoint-half     inside a checkpoint write, half of its tensors in the temporary file
//   before-rename       a whole file written and fsync'd under its temporary name, not renamed
//   after-rename        renamed into place, the folder not yet fsync'd
//   checkpoint-written  a checkpoint committed, before it is verified and older ones rotated away
#pragma once

namespace alexnet {

void crash_point(const char* name);

}  // namespace alexnet
