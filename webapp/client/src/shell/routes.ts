// Client routes live under /app/ (the server's other paths are its API and ComfyUI's routes).
export const PAGES = ['image', 'video', 'editor', 'gallery', 'queue', 'debugger', 'admin', 'login'] as const;
export type Page = (typeof PAGES)[number];

export const TITLES: Readonly<Record<Page, string>> = {
  image: 'Image',
  video: 'Video',
  editor: 'Editor',
  gallery: 'Gallery',
  queue: 'Queue',
  debugger: 'Debugger',
  admin: 'Admin',
  login: 'Log in',
};

export function pageOf(path: string): Page | null {
  const match = /^\/app\/([a-z]+)\/?(?:\?.*)?$/.exec(path);
  const name = match?.[1];
  return name !== undefined && (PAGES as readonly string[]).includes(name) ? (name as Page) : null;
}

export const pathOf = (page: Page): string => `/app/${page}`;

/** The pages the navigation offers, in order: under `rxgen debug` (a recorded log, no server
 * behind it) only the debugger; otherwise every page but login, admin only to admins. */
export function navPages(role: string | null, debug: boolean): readonly Page[] {
  if (role === null) return [];
  if (debug) return ['debugger'];
  return PAGES.filter((p) => p !== 'login' && (p !== 'admin' || role === 'admin'));
}

/** Where the app must go instead of `path`, or null to stay. */
export function redirect(path: string, loggedIn: boolean | null, admin: boolean, debug = false): string | null {
  if (loggedIn === null) return null; // not known yet
  const page = pageOf(path);
  if (debug) return page === 'debugger' ? null : pathOf('debugger');
  if (!loggedIn) return page === 'login' ? null : pathOf('login');
  if (page === null || page === 'login') return pathOf('image');
  if (page === 'admin' && !admin) return pathOf('image');
  return null;
}
