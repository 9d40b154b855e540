// Seconds left until a deadline, as a reactive number that ticks once a second: the SMS code's
// expiry, a lockout's Retry-After. Counting to a deadline (not counting ticks) keeps the number
// right when the tab was in the background and timers were slowed down.
import { onBeforeUnmount, ref } from 'vue'

export function useCountdown() {
  const left = ref(0)
  let deadline = 0
  let timer = null

  function tick() {
    left.value = Math.max(0, Math.ceil((deadline - Date.now()) / 1000))
    if (left.value === 0) stop()
  }

  function stop() {
    if (timer !== null) clearInterval(timer)
    timer = null
  }

  /** Count down to `at` (ms since the epoch); a past or missing deadline shows 0. */
  function until(at) {
    stop()
    deadline = typeof at === 'number' ? at : 0
    tick()
    if (left.value > 0) timer = setInterval(tick, 1000)
  }

  /** Count down `seconds` from now. */
  function start(seconds) {
    until(Date.now() + Math.max(0, Number(seconds) || 0) * 1000)
  }

  function clear() {
    stop()
    deadline = 0
    left.value = 0
  }

  onBeforeUnmount(stop)
  return { left, start, until, clear }
}
