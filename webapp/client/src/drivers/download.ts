// Download driver: text the app made (an exported workflow) saved as a file by the browser.
import type { Stream } from 'xstream';

export interface Download {
  readonly filename: string;
  readonly mime: string;
  readonly text: string;
}

export function makeDownloadDriver() {
  return function downloadDriver(download$: Stream<Download>): void {
    download$.addListener({
      next: ({ filename, mime, text }) => {
        const url = URL.createObjectURL(new Blob([text], { type: mime }));
        const link = document.createElement('a');
        link.href = url;
        link.download = filename;
        link.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      },
      error: () => undefined,
      complete: () => undefined,
    });
  };
}
