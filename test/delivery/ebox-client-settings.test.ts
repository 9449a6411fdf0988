import {
  DEFAULT_EBOX_TIMEOUT_MS,
  DEV_EBOX_CLIENT_ID,
  DEV_EBOX_CLIENT_SECRET,
  EboxSettingsError,
  eboxClientSettingsFromEnv,
  eboxUrl,
} from '../../src/delivery/ebox-client-settings';

describe('eboxClientSettingsFromEnv', () => {
  it('uses the simulator address and development credentials when nothing is set', () => {
    expect(eboxClientSettingsFromEnv({}, 'http://127.0.0.1:9000')).toEqual({
      baseUrl: 'http://127.0.0.1:9000',
      clientId: DEV_EBOX_CLIENT_ID,
      clientSecret: DEV_EBOX_CLIENT_SECRET,
      timeoutMs: DEFAULT_EBOX_TIMEOUT_MS,
    });
  });

  it('reads RM_EBOX_URL, RM_EBOX_CLIENT_ID, RM_EBOX_CLIENT_SECRET and RM_EBOX_TIMEOUT_MS', () => {
    expect(
      eboxClientSettingsFromEnv(
        {
          RM_EBOX_URL: 'https://ebox.example/api/',
          RM_EBOX_CLIENT_ID: 'id',
          RM_EBOX_CLIENT_SECRET: 'secret',
          RM_EBOX_TIMEOUT_MS: '5000',
        },
        'http://127.0.0.1:9000',
      ),
    ).toEqual({
      baseUrl: 'https://ebox.example/api/',
      clientId: 'id',
      clientSecret: 'secret',
      timeoutMs: 5000,
    });
  });

  it.each([
    [{ RM_EBOX_URL: 'ftp://ebox.example' }],
    [{ RM_EBOX_URL: 'not a url' }],
    [{ RM_EBOX_URL: 'https://ebox.example', RM_EBOX_TIMEOUT_MS: '0' }],
    [{ RM_EBOX_URL: 'https://ebox.example', RM_EBOX_TIMEOUT_MS: 'soon' }],
    [{}],
  ])('refuses %j', (env) => {
    expect(() => eboxClientSettingsFromEnv(env)).toThrow(EboxSettingsError);
  });

  it('appends paths to the base URL, keeping its own path', () => {
    expect(eboxUrl('https://ebox.example/api/', '/ebox/messages').href).toBe(
      'https://ebox.example/api/ebox/messages',
    );
  });
});
