/**
 * What the simulated avatar says. There is no AI behind it: a few canned,
 * playful answers picked by keyword, so the widget feels alive in a demo and
 * tests get deterministic replies.
 */

export interface ReplyContext {
  avatarName: string;
  /** Milliseconds left in the session. */
  msLeft: number;
}

/** The text the widget sends for a microphone recording (the simulator has no speech recognition). */
export const VOICE_MESSAGE = '[voice message]';

const JOKES = [
  'Why did the session token break up with the widget? It needed some space — a whole new session, in fact.',
  'I would tell you a UDP joke, but you might not get it.',
  'There are two hard things in computing: cache invalidation, naming things, and off-by-one errors.',
];

const FALLBACKS = [
  'Interesting! Tell me more about “{topic}”.',
  'I am only a simulator, but “{topic}” sounds important. Noted with great enthusiasm.',
  'Let me think… my canned wisdom says: “{topic}” is best handled one step at a time.',
  'Good question. In a real deployment a Konpro agent would answer that; I mostly smile.',
];

const NAMES = ['Mira', 'Kai', 'Noa', 'Juno', 'Sol', 'Ilya'];

/** A stable display name for an avatar id (or the one its settings give). */
export function avatarName(agenticAvatarId: string, settings: Readonly<Record<string, unknown>> = {}): string {
  const named = settings.avatar_name;
  if (typeof named === 'string' && named.trim() !== '') return named.trim().slice(0, 40);
  return NAMES[hash(agenticAvatarId) % NAMES.length] ?? 'Mira';
}

export function greeting(name: string): string {
  return `Hi, I'm ${name}, a simulated Konpro avatar. Type a message or press the microphone to talk to me.`;
}

export function replyTo(text: string, context: ReplyContext): string {
  const lower = text.toLowerCase();
  const minutes = Math.max(0, Math.ceil(context.msLeft / 60_000));
  if (text === VOICE_MESSAGE) {
    return 'I heard you! Well — I saw your microphone level move. Speech recognition is not part of the simulator.';
  }
  if (/\b(hi|hello|hey|hallo|good (morning|afternoon|evening))\b/.test(lower)) {
    return `Hello! I'm ${context.avatarName}. Ask me anything: I answer with total confidence and zero knowledge.`;
  }
  if (/\b(who are you|your name|what are you)\b/.test(lower)) {
    return `I'm ${context.avatarName}, a stand-in for a Konpro AI avatar. I run on a widget session token that can be revoked at any moment.`;
  }
  if (/\b(time|how long|expire|expires|end)\b/.test(lower)) {
    return `This session ends in about ${minutes} minute${minutes === 1 ? '' : 's'} — sooner if someone revokes it from the console.`;
  }
  if (/\b(help|what can you do)\b/.test(lower)) {
    return 'Type anything, press the microphone to let me hear you, or revoke my session in the simulator console to watch me stop.';
  }
  if (/\b(joke|funny|laugh)\b/.test(lower)) return JOKES[hash(text) % JOKES.length] ?? '';
  if (/\b(thanks|thank you|cheers)\b/.test(lower)) return 'Any time!';
  if (/\b(bye|goodbye|log ?out|sign ?out)\b/.test(lower)) {
    return 'Goodbye! When your site logs you out, my session is deleted and I stop working — for good.';
  }
  const topic = text.trim().split(/\s+/).slice(0, 6).join(' ');
  return (FALLBACKS[hash(text) % FALLBACKS.length] ?? '').replace('{topic}', topic);
}

/** A small, stable string hash (FNV-1a), so the same text gets the same answer. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
