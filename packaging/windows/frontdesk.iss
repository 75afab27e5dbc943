; Inno Setup 6 script: FrontdeskIssuer-<version>-setup.exe from the PyInstaller bundle.
; packaging\build.ps1 builds the bundle and runs ISCC with the values below from
; resources\app.json and issuer\__init__.py; by hand:
;   ISCC /DAppVersion=0.1.0 /DBundleDir=C:\src\dist\frontdesk /DOutputDir=C:\src\dist packaging\windows\frontdesk.iss
;
; Installs for the current user by default (no administrator rights; %LOCALAPPDATA%\Programs),
; or for all users when chosen in the first dialog. Start-menu entry, optional desktop icon,
; uninstaller. The data folder (%LOCALAPPDATA%\frontdesk-issuer: keys, settings, history) is
; not part of the installation: upgrades leave it alone, and the uninstaller keeps it unless
; the user says otherwise (silent uninstall: only with /DELETEDATA).

#ifndef AppVersion
  #error Pass /DAppVersion=X.Y.Z (packaging\build.ps1 does)
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\frontdesk"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#ifndef AppName
  #define AppName "Frontdesk Issuer"
#endif
#ifndef AppPublisher
  #define AppPublisher "Frontdesk Issuer contributors"
#endif
#ifndef AppExe
  #define AppExe "frontdesk"
#endif
#ifndef DataDirName
  #define DataDirName "frontdesk-issuer"
#endif
#ifndef AppId
  #define AppId "{3B3EC1DE-BECF-44B6-BA86-3159088014DC}"
#endif

[Setup]
; A leading "{{" writes one literal brace: AppId is a GUID in braces.
AppId={{#AppId}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=FrontdeskIssuer-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\frontdesk-issuer.ico
UninstallDisplayIcon={app}\{#AppExe}.exe
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: no library of the old version stays behind.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}.exe"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}.exe"; Description: "{cm:LaunchProgram,{#StringChange(AppName, '&', '&&')}}"; Flags: nowait postinstall skipifsilent

[Code]
function DataFolder: String;
begin
  Result := ExpandConstant('{localappdata}\{#DataDirName}');
end;

function HasParameter(Name: String): Boolean;
var
  I: Integer;
begin
  Result := False;
  for I := 1 to ParamCount do
    if CompareText(ParamStr(I), Name) = 0 then
      Result := True;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  DeleteData: Boolean;
begin
  if (CurUninstallStep <> usPostUninstall) or not DirExists(DataFolder) then
    exit;
  if UninstallSilent then
    DeleteData := HasParameter('/DELETEDATA')
  else
    DeleteData := MsgBox('Also delete the issuer''s data?' + #13#10#13#10 + DataFolder + #13#10#13#10 +
      'It holds the signing keys, settings, operators, offers and the issuance history. ' +
      'Choose No to keep it, for example to reinstall or upgrade later.',
      mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
  if DeleteData then
    DelTree(DataFolder, True, True, True);
end;
