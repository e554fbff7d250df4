// How busy the page's thread is: a MessageChannel ping-pong runs as fast as the event loop
// lets it. While the thread is free, consecutive pings are microseconds apart; a gap longer
// than `threshold` ms means something else held the thread for that long. busy(a, b) sums those
// gaps over [a, b] (performance.now() times), including the gap still open at b.

export class BusyProbe {
  constructor(threshold = 1) {
    this.threshold = threshold;
    this.gaps = [];
    this.running = false;
    this.pings = 0;
  }

  start() {
    const channel = new MessageChannel();
    this.channel = channel;
    this.running = true;
    this.last = performance.now();
    channel.port1.onmessage = () => {
      const now = performance.now();
      if (now - this.last > this.threshold) this.gaps.push(this.last, now);
      this.last = now;
      this.pings += 1;
      if (this.running) channel.port2.postMessage(0);
    };
    channel.port2.postMessage(0);
  }

  stop() {
    this.running = false;
    this.channel.port1.onmessage = null;
    this.channel.port1.close();
    this.channel.port2.close();
  }

  /** Forgets the gaps that ended before now (call it at the start of a measured window). */
  reset() {
    this.gaps.length = 0;
  }

  /** Busy milliseconds within [a, b]; b should be "now". */
  busy(a, b) {
    let sum = 0;
    for (let i = 0; i < this.gaps.length; i += 2) {
      const s = Math.max(a, this.gaps[i]);
      const e = Math.min(b, this.gaps[i + 1]);
      if (e > s) sum += e - s;
    }
    if (b - this.last > this.threshold && b > a) sum += b - Math.max(a, this.last);
    return sum;
  }
}
