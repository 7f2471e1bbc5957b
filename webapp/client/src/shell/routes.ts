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

/** Where the app must go instead of `path`, or null to stay. */
export function redirect(path: string, loggedIn: boolean | null, admin: boolean): string | null {
  if (loggedIn === null) return null; // not known yet
  const page = pageOf(path);
  if (!loggedIn) return page === 'login' ? null : pathOf('login');
  if (page === null || page === 'login') return pathOf('image');
  if (page === 'admin' && !admin) return pathOf('image');
  return null;
}
