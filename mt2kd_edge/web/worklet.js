// The microphone's samples, off the audio thread in ~100 ms blocks (a message per 128-sample render
// quantum would be ~375 WebSocket messages a second). Channel 0 only: the server takes mono.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.blockSize = Math.round(sampleRate / 10);
    this.block = new Float32Array(this.blockSize);
    this.filled = 0;
    this.port.onmessage = (e) => { if (e.data === "flush") this.flush(); };
  }

  flush() {
    if (this.filled > 0) {
      const out = this.block.slice(0, this.filled);
      this.port.postMessage(out, [out.buffer]);
      this.filled = 0;
    }
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      let i = 0;
      while (i < channel.length) {
        const n = Math.min(channel.length - i, this.blockSize - this.filled);
        this.block.set(channel.subarray(i, i + n), this.filled);
        this.filled += n;
        i += n;
        if (this.filled === this.blockSize) this.flush();
      }
    }
    return true;
  }
}

registerProcessor("mt2kd-capture", CaptureProcessor);
