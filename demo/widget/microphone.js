// @ts-check
/**
 * The widget's microphone: a real `getUserMedia` capture with a level meter.
 * `stop()` ends every track at once, including a capture that is still being
 * granted when the session ends, so no microphone outlives its session.
 */

/** RMS level (0–1) above which we say the user spoke. */
const VOICE_LEVEL = 0.04;

export class Microphone {
  /** @type {MediaStream | null} */
  #stream = null;
  /** @type {AudioContext | null} */
  #context = null;
  #frame = 0;
  /** Bumped by every start and stop: a grant that arrives for an older one is dropped. */
  #generation = 0;
  #heardVoice = false;
  /** @type {(level: number) => void} */
  #onLevel;
  /** @type {() => void} */
  #onEnded;

  /**
   * @param {(level: number) => void} onLevel called about once a frame with the input level, 0–1
   * @param {() => void} onEnded called when the capture ends by itself (device unplugged, permission revoked)
   */
  constructor(onLevel, onEnded) {
    this.#onLevel = onLevel;
    this.#onEnded = onEnded;
  }

  get live() {
    return this.#stream !== null;
  }

  /** Whether the input rose above speaking level since `start()`. */
  get heardVoice() {
    return this.#heardVoice;
  }

  /**
   * Asks for the microphone and starts metering. Resolves `false` when
   * `stop()` was called while the browser was still asking.
   * Rejects with the `getUserMedia` error (e.g. `NotAllowedError`).
   * @returns {Promise<boolean>}
   */
  async start() {
    this.stop();
    const generation = ++this.#generation;
    if (!navigator.mediaDevices?.getUserMedia)
      throw new DOMException('No microphone API in this context', 'NotSupportedError');
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
    });
    if (generation !== this.#generation) {
      for (const track of stream.getTracks()) track.stop();
      return false;
    }
    this.#stream = stream;
    this.#heardVoice = false;
    for (const track of stream.getTracks()) {
      track.addEventListener('ended', () => {
        if (this.#stream === stream) {
          this.stop();
          this.#onEnded();
        }
      });
    }
    this.#meter(stream);
    return true;
  }

  /** Stops every track and the meter. Safe to call at any time, any number of times. */
  stop() {
    this.#generation += 1;
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    if (this.#stream) for (const track of this.#stream.getTracks()) track.stop();
    this.#stream = null;
    if (this.#context) void this.#context.close().catch(() => {});
    this.#context = null;
    this.#onLevel(0);
  }

  /** @param {MediaStream} stream */
  #meter(stream) {
    // Metering is a nicety: without Web Audio the capture still works.
    if (typeof AudioContext !== 'function') return;
    const context = new AudioContext();
    this.#context = context;
    const analyser = context.createAnalyser();
    analyser.fftSize = 512;
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const tick = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      const rms = Math.sqrt(sum / samples.length);
      if (rms > VOICE_LEVEL) this.#heardVoice = true;
      // Speech RMS rarely exceeds ~0.3: scale so the meter uses its whole range.
      this.#onLevel(Math.min(1, rms / 0.3));
      this.#frame = requestAnimationFrame(tick);
    };
    tick();
  }
}
