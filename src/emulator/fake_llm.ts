// The deterministic fake chat model behind the emulator's serving endpoints. Same conversation, same
// answer, on every run and machine, so that tests (and users rehearsing offline) can assert on replies.
// The rules are listed in README.md ("Serving endpoints"); a token is a whitespace-separated word.

export interface ChatMessage {
  role: string;
  content: string;
}

export interface FakeReply {
  content: string;
  finishReason: "stop" | "length";
  promptTokens: number;
  completionTokens: number;
}

export interface FakeChatOptions {
  maxTokens?: number;
  stop?: string[];
}

/** The earliest directive in the user's message wins; its argument is the rest of the message. */
const DIRECTIVE = /(?:^|[^\p{L}\p{N}_])(echo|upper|count words):/iu;
const PREFIX = /(?:^|[^\p{L}\p{N}_])prefix:[ \t]*([^\n]*)/iu;
const GIST_WORDS = 12;

export const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

/** FNV-1a over UTF-16 code units, as 8 hex digits: stable everywhere, no crypto needed. */
export function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

function answer(messages: ChatMessage[]): string {
  const prompt = messages.findLast((m) => m.role === "user")?.content ?? "";
  const m = DIRECTIVE.exec(prompt);
  if (m) {
    const arg = prompt.slice(m.index + m[0].length).trim();
    switch (m[1].toLowerCase()) {
      case "echo":
        return arg;
      case "upper":
        return arg.toUpperCase();
      default:
        return String(words(arg).length);
    }
  }
  // The whole conversation (system prompts and earlier turns too) picks the reply's tag.
  const tag = fnv1a(JSON.stringify(messages.map((x) => [x.role, x.content])));
  const gist = words(prompt);
  if (gist.length === 0) return `This is a fake reply (${tag}).`;
  const cut = gist.length > GIST_WORDS ? " ..." : "";
  return `This is a fake reply (${tag}) to: ${gist.slice(0, GIST_WORDS).join(" ")}${cut}`;
}

/** The text up to the end of its n-th word, keeping the spacing between words. */
function firstWords(text: string, n: number): string {
  const re = /\S+/g;
  let end = 0;
  for (let i = 0; i < n; i++) {
    const m = re.exec(text);
    if (!m) return text;
    end = m.index + m[0].length;
  }
  return text.slice(0, end);
}

export function fakeChat(messages: ChatMessage[], opts: FakeChatOptions = {}): FakeReply {
  let content = answer(messages);
  for (const m of messages) {
    if (m.role !== "system") continue;
    const p = PREFIX.exec(m.content);
    if (p && p[1].trim()) content = `${p[1].trim()} ${content}`;
  }
  for (const s of opts.stop ?? []) {
    const at = s ? content.indexOf(s) : -1;
    if (at >= 0) content = content.slice(0, at);
  }
  let finishReason: FakeReply["finishReason"] = "stop";
  if (opts.maxTokens !== undefined && words(content).length > opts.maxTokens) {
    content = firstWords(content, opts.maxTokens);
    finishReason = "length";
  }
  return {
    content,
    finishReason,
    promptTokens: messages.reduce((n, m) => n + words(m.content).length, 0),
    completionTokens: words(content).length,
  };
}
