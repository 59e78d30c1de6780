// zerocloud.js — a small browser client for ZeroCloud: log in (auth 1.0 or Keystone v3), read the
// deployed job (boot/system.map) and POST it with "X-Zerovm-Execute: 1.0".
// settings = {version: "1.0" | "3", authUrl: ..., storageUrl: ...}, written by 'zpm deploy'
// (never with credentials: the user types them into the page).
function ZeroCloudClient(settings) {
  this.settings = settings;
  this.token = null;
  this.storageUrl = settings.storageUrl;
}

ZeroCloudClient.prototype.login = function (user, key, project) {
  var self = this, s = this.settings;
  if (s.version === '1.0') {
    return fetch(s.authUrl, { headers: { 'X-Auth-User': user, 'X-Auth-Key': key } })
      .then(function (r) {
        if (!r.ok) throw new Error('login refused: HTTP ' + r.status);
        self.token = r.headers.get('X-Auth-Token');
        self.storageUrl = r.headers.get('X-Storage-Url') || self.storageUrl;
      });
  }
  var body = { auth: {
    identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password: key } } },
    scope: { project: { name: project, domain: { name: 'Default' } } } } };
  return fetch(s.authUrl.replace(/\/+$/, '') + '/auth/tokens', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
  }).then(function (r) {
    if (!r.ok) throw new Error('login refused: HTTP ' + r.status);
    self.token = r.headers.get('X-Subject-Token');
  });
};

// The job deployed beside this page.
ZeroCloudClient.prototype.job = function (container) {
  return fetch(this.storageUrl + '/' + container + '/boot/system.map', { headers: { 'X-Auth-Token': this.token } })
    .then(function (r) {
      if (!r.ok) throw new Error('cannot read the job: HTTP ' + r.status);
      return r.json();
    });
};

// Escapes one argument as ZeroVM's nvram wants it (as zpm bundle does).
function escapeArg(arg) {
  return arg.replace(/[\\", \n]/g, function (c) { return '\\x' + ('0' + c.charCodeAt(0).toString(16)).slice(-2); });
}

ZeroCloudClient.prototype.execute = function (job, args) {
  var extra = args.split(/\s+/).filter(function (a) { return a.length; }).map(escapeArg).join(' ');
  if (extra) job[0].exec.args = (job[0].exec.args ? job[0].exec.args + ' ' : '') + extra;
  return fetch(this.storageUrl, {
    method: 'POST',
    headers: { 'X-Auth-Token': this.token, 'X-Zerovm-Execute': '1.0', 'Content-Type': 'application/json' },
    body: JSON.stringify(job)
  }).then(function (r) {
    return r.text().then(function (text) {
      if (!r.ok) throw new Error('HTTP ' + r.status + ': ' + text);
      return text;
    });
  });
};
