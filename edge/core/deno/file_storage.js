// Petrel's outbox storage in Deno: the shape of a Durable Object's storage (put, list) over files,
// one per key, each written to a temporary name and renamed so a crash never leaves half a job.
// Files and not Deno KV: KV needs --unstable-kv and caps values at 64 KiB, less than a long mail.
export class FileStorage {
  constructor(dir) {
    this.dir = dir;
  }

  #path(key) {
    return `${this.dir}/${encodeURIComponent(key)}`;
  }

  async put(key, value) {
    await Deno.mkdir(this.dir, { recursive: true });
    const temporary = `${this.#path(key)}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(temporary, value);
    await Deno.rename(temporary, this.#path(key));
  }

  async get(key) {
    try {
      return await Deno.readTextFile(this.#path(key));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  async delete(key) {
    try {
      await Deno.remove(this.#path(key));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  async list({ prefix = "" } = {}) {
    const found = new Map();
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        if (!entry.isFile || entry.name.endsWith(".tmp")) continue;
        const key = decodeURIComponent(entry.name);
        if (key.startsWith(prefix)) found.set(key, await Deno.readTextFile(`${this.dir}/${entry.name}`));
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return new Map([...found].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}
