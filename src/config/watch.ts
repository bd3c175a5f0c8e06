// Watches the config file and calls back with each new valid version. Editors often replace a
// file rather than write it, so the directory is watched and events are debounced.
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";

export function watchFile(path: string, onChange: () => void, debounceMs = 200): () => void {
  let timer: NodeJS.Timeout | undefined;
  const name = basename(path);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, file) => {
      if (file !== null && file !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    });
    watcher.unref();
  } catch {
    // A directory we cannot watch (e.g. some network filesystems): SIGHUP still reloads.
  }
  return () => {
    if (timer) clearTimeout(timer);
    watcher?.close();
  };
}
