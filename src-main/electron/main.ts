import { app, BrowserWindow, session, shell, screen } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLab, type Lab } from '../api/lab';
import { CONTENT_SECURITY_POLICY } from '../api/csp';
import { resolveDbPath } from '../store/paths';
import { bindIpc } from './ipc';
import { utilityWorkerLauncher } from './launch-utility';
import { fitWindowState, urlTrust, type WindowState } from './policy';

app.setName('dpo-lab');
const here = path.dirname(fileURLToPath(import.meta.url));
const rendererIndex = path.join(here, '../renderer/index.html');
// resources/ ships beside out/ (electron-builder `files`); macOS takes the app bundle's .icns instead.
const windowIcon = path.join(here, '../../resources/icon.png');
const devServer = process.env.ELECTRON_RENDERER_URL;

const isTrustedUrl = urlTrust(pathToFileURL(rendererIndex).href, devServer);

function stateFile(): string {
  return path.join(app.getPath('userData'), 'window-state.json');
}

function loadWindowState(): WindowState {
  let saved: unknown = null;
  try {
    saved = JSON.parse(fs.readFileSync(stateFile(), 'utf8'));
  } catch {
    // first launch, or an unreadable file: the defaults will do
  }
  return fitWindowState(
    saved,
    screen.getAllDisplays().map((d) => d.workArea),
  );
}

function saveWindowState(win: BrowserWindow): void {
  const b = win.getNormalBounds();
  fs.mkdirSync(path.dirname(stateFile()), { recursive: true });
  fs.writeFileSync(stateFile(), JSON.stringify({ ...b, maximized: win.isMaximized() }));
}

function createWindow(): BrowserWindow {
  const { maximized, ...bounds } = loadWindowState();
  const win = new BrowserWindow({
    ...bounds,
    minWidth: 900,
    minHeight: 600,
    title: 'DPO Lab',
    ...(process.platform !== 'darwin' && fs.existsSync(windowIcon) ? { icon: windowIcon } : {}),
    show: false,
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  if (maximized) win.maximize();
  win.once('ready-to-show', () => win.show());
  win.on('close', () => saveWindowState(win));
  // The app is one page: no navigation away from it, no new windows; links open in the system browser.
  win.webContents.on('will-navigate', (e, url) => {
    if (!isTrustedUrl(url)) e.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (devServer) void win.loadURL(devServer);
  else void win.loadFile(rendererIndex);
  return win;
}

let lab: Lab | null = null;

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  const dbArg = process.argv.find((a) => a.startsWith('--db='))?.slice('--db='.length);
  lab = createLab({ dbFile: resolveDbPath(dbArg), mode: 'electron', launcher: utilityWorkerLauncher() });
  bindIpc(lab, isTrustedUrl);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('before-quit', () => {
  lab?.close();
  lab = null;
});
