; Inno Setup 6 script (6.3 or later) for kapdesk's Windows installer.
;
; Installs PyInstaller's one-folder build, dist\kapdesk\ (kapdesk.exe, the app without a
; console window, and kapdesk-cli.exe, the console program for the verbs, sharing the
; folder), for the current user only: no administrator rights are asked for.
;
; Build from the repository root (the steps are in packaging\windows\README.md):
;
;   iscc /DAppVersion=x.y.z packaging\windows\kapdesk.iss
;
; which writes dist\kapdesk-x.y.z-setup.exe. To have Inno Setup sign the installer and
; its uninstaller, also define a Sign Tool and pass its name; the build does this only
; when a certificate is configured (KAPDESK_SIGN_PFX), never from this file:
;
;   iscc "/Skapdesksign=signtool sign ... $f" /DSignToolName=kapdesksign ...
;
; THE PATIENT RECORD IS NOT THE PROGRAM. kapdesk keeps its encrypted record and its logs
; in the user's data folder, platformdirs.user_data_dir("kapdesk", appauthor=False) =
; %LOCALAPPDATA%\kapdesk (kapdesk\local\paths.py), the copy of its anchor in
; %LOCALAPPDATA%\kapdesk-anchors, and the record's key in Windows Credential Manager. Neither this installer nor its uninstaller ever
; touches them: the program goes to its own folder, %LOCALAPPDATA%\Programs\kapdesk, and
; uninstalling removes only what was installed there.

#define AppName "kapdesk"
#define AppExeName "kapdesk.exe"
#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

; Paths below are relative to the repository root (SourceDir).
#define RepoRoot AddBackslash(SourcePath) + "..\.."
#if !FileExists(RepoRoot + "\dist\kapdesk\kapdesk.exe")
  #error dist\kapdesk\kapdesk.exe is missing: run "pyinstaller build_installer.spec" first
#endif
#if !FileExists(RepoRoot + "\dist\kapdesk\kapdesk-cli.exe")
  #error dist\kapdesk\kapdesk-cli.exe is missing: run "pyinstaller build_installer.spec" first
#endif
#if !FileExists(RepoRoot + "\build\icons\kapdesk.ico")
  #error build\icons\kapdesk.ico is missing: run "python packaging\make_icons.py build\icons"
#endif

[Setup]
; AppId identifies kapdesk to Windows and to every later installer: an upgrade finds the
; installed copy, its folder and its uninstaller by it. It must NEVER change (a new one
; would install a second, separate kapdesk beside the first). Generated once.
AppId={{63C6F41C-45A6-4CB1-85ED-4F0ACA91514E}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
SourceDir=..\..
OutputDir=dist
OutputBaseFilename=kapdesk-{#AppVersion}-setup
SetupIconFile=build\icons\kapdesk.ico
UninstallDisplayIcon={app}\kapdesk.ico
UninstallDisplayName={#AppName}

; Per user, no administrator rights, never elevated, whoever starts it.
PrivilegesRequired=lowest
; Without admin rights {autopf} is the user's own program folder, so this is
; %LOCALAPPDATA%\Programs\kapdesk: deliberately NOT %LOCALAPPDATA%\kapdesk, the data
; folder holding the record (the [Code] below also refuses a folder that is, holds or is
; inside the data folder, should someone type one in).
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
; Qt 6 supports 64-bit Windows 10 and later only.
MinVersion=10.0
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible

WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
SetupLogging=yes
; An upgrade asks to close a running kapdesk and does not restart it by itself.
CloseApplications=yes
RestartApplications=no

; Optional signing: only when the build passes /DSignToolName=<name> together with
; /S<name>=<command>, i.e. only when a certificate is configured. Unsigned otherwise.
#ifdef SignToolName
SignTool={#SignToolName}
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade first removes the previous build's libraries (PyInstaller's _internal folder,
; inside the program folder only), so no stale Qt plugin or DLL of the old version is
; loaded by the new one.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "dist\kapdesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "build\icons\kapdesk.ico"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"; IconFilename: "{app}\kapdesk.ico"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"; IconFilename: "{app}\kapdesk.ico"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; There is deliberately NO [UninstallDelete] section. The uninstaller removes only the
; files this installer put in the program folder (and the folder, once empty). It must
; never delete the data folder %LOCALAPPDATA%\kapdesk (the record, logs), the anchor copies
; in %LOCALAPPDATA%\kapdesk-anchors, nor the
; Credential Manager entry holding the record's key: uninstalling or reinstalling the
; program must leave the clinic's record intact and openable. Do not add entries for them.

[Code]
// True if Dir is Parent or lies inside it (case-insensitive, as Windows paths are).
function IsSameOrInside(Dir, Parent: String): Boolean;
begin
  Dir := Lowercase(AddBackslash(ExpandFileName(Dir)));
  Parent := Lowercase(AddBackslash(ExpandFileName(Parent)));
  Result := Copy(Dir, 1, Length(Parent)) = Parent;
end;

// Why AppDir cannot hold the program, or '' if it can: it must not be, hold, or be inside
// a kapdesk data folder (the default one, or one named by %KAPDESK_HOME%).
function DataFolderClash(AppDir: String): String;
var
  DataDirs: array of String;
  I: Integer;
begin
  Result := '';
  SetArrayLength(DataDirs, 1);
  DataDirs[0] := ExpandConstant('{localappdata}\{#AppName}');
  if GetEnv('KAPDESK_HOME') <> '' then
  begin
    SetArrayLength(DataDirs, 2);
    DataDirs[1] := GetEnv('KAPDESK_HOME');
  end;
  for I := 0 to GetArrayLength(DataDirs) - 1 do
    if IsSameOrInside(AppDir, DataDirs[I]) or IsSameOrInside(DataDirs[I], AppDir) then
    begin
      Result := 'kapdesk cannot be installed in ' + AppDir + ': it overlaps the folder '
        + 'that holds the patient record (' + DataDirs[I] + '). Choose another folder, '
        + 'such as ' + ExpandConstant('{userpf}\{#AppName}') + '.';
      Exit;
    end;
end;

function NextButtonClick(CurPageID: Integer): Boolean;
var
  Clash: String;
begin
  Result := True;
  if CurPageID = wpSelectDir then
  begin
    Clash := DataFolderClash(WizardDirValue);
    if Clash <> '' then
    begin
      SuppressibleMsgBox(Clash, mbError, MB_OK, IDOK);
      Result := False;
    end;
  end;
end;

// Also for silent installs (/DIR=...), where no page is shown: stops before any file is
// written (exit code 7).
function PrepareToInstall(var NeedsRestart: Boolean): String;
begin
  Result := DataFolderClash(ExpandConstant('{app}'));
end;
