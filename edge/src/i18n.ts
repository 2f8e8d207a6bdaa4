// Every string the UI shows, in zh-CN and en, and the language choice (persisted, mirrored on <html lang>).
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export type Lang = 'zh-CN' | 'en';

// zh-CN is the reference table: its keys are the key set, so en must match it exactly.
const zhCN = {
  appName: '门岗系统',
  loginTitle: '请选择您的名字',
  loadingPeople: '正在读取人员名单…',
  pinTitle: '请输入 PIN 码',
  pinFor: '登录：{name}',
  pinClear: '清除',
  pinBackspace: '退格',
  pinOk: '确定',
  back: '返回',
  wrongPin: 'PIN 码错误，请重新输入',
  lockedOut: 'PIN 码错误次数过多，已暂时锁定，请几分钟后再试',
  badPin: 'PIN 码应为 4 到 12 位数字',
  gatewayUnreachable: '无法连接网关，请稍后再试',
  loggingIn: '正在登录…',
  logout: '退出登录',
  'role.guard': '保安',
  'role.operator': '监控员',
  'role.supervisor': '主管',
  'role.admin': '管理员',
  'section.gate': '门岗',
  'section.control': '监控室',
  'section.review': '督查',
  'section.admin': '管理',
  'section.devices': '设备',
  sectionNote: '本页显示实时事件和设备状态。',
  liveTitle: '实时事件',
  liveEmpty: '暂无事件',
  connLost: '与网关的连接已中断，正在重新连接…',
  devicesTitle: '设备状态',
  devicesEmpty: '未配置设备',
  'event.credential': '刷卡',
  'event.plate': '车牌',
  'event.checkpoint': '巡更打卡',
  'event.state': '状态',
  'credential.card': '卡',
  'credential.pin': '密码',
  'credential.qr': '二维码',
  confidence: '置信度',
  tag: '标签',
  'state.online': '在线',
  'state.offline': '离线',
  'state.failed': '故障',
  'state.starting': '启动中',
  'state.stopped': '已停止',
  'kind.reader': '读卡器',
  'kind.plate-camera': '车牌相机',
  'kind.barrier': '道闸',
  'kind.checkpoint': '巡更点',
  'kind.camera': '摄像机',
  colName: '名称',
  colKind: '类型',
  colState: '状态',
  colLastSeen: '最后联系',
  colLastError: '最近错误',
  never: '从未',
  none: '无',
  language: '语言',
} as const;

export type MsgKey = keyof typeof zhCN;

const en: Record<MsgKey, string> = {
  appName: 'Guard post',
  loginTitle: 'Tap your name',
  loadingPeople: 'Loading people…',
  pinTitle: 'Enter your PIN',
  pinFor: 'Sign in: {name}',
  pinClear: 'Clear',
  pinBackspace: 'Delete',
  pinOk: 'OK',
  back: 'Back',
  wrongPin: 'Wrong PIN, please try again',
  lockedOut: 'Too many wrong PINs: locked for a few minutes, please try again later',
  badPin: 'The PIN must be 4 to 12 digits',
  gatewayUnreachable: 'Cannot reach the gateway, try again shortly',
  loggingIn: 'Signing in…',
  logout: 'Log out',
  'role.guard': 'Guard',
  'role.operator': 'Operator',
  'role.supervisor': 'Supervisor',
  'role.admin': 'Admin',
  'section.gate': 'Gate',
  'section.control': 'Control room',
  'section.review': 'Review',
  'section.admin': 'Admin',
  'section.devices': 'Devices',
  sectionNote: 'This page shows live events and device status.',
  liveTitle: 'Live events',
  liveEmpty: 'No events yet',
  connLost: 'Connection to the gateway lost, reconnecting…',
  devicesTitle: 'Device status',
  devicesEmpty: 'No devices configured',
  'event.credential': 'Card',
  'event.plate': 'Plate',
  'event.checkpoint': 'Checkpoint',
  'event.state': 'State',
  'credential.card': 'card',
  'credential.pin': 'PIN',
  'credential.qr': 'QR',
  confidence: 'confidence',
  tag: 'tag',
  'state.online': 'Online',
  'state.offline': 'Offline',
  'state.failed': 'Failed',
  'state.starting': 'Starting',
  'state.stopped': 'Stopped',
  'kind.reader': 'Card reader',
  'kind.plate-camera': 'Plate camera',
  'kind.barrier': 'Barrier',
  'kind.checkpoint': 'Checkpoint',
  'kind.camera': 'Camera',
  colName: 'Name',
  colKind: 'Kind',
  colState: 'State',
  colLastSeen: 'Last seen',
  colLastError: 'Last error',
  never: 'never',
  none: 'none',
  language: 'Language',
};

const tables: Record<Lang, Record<MsgKey, string>> = { 'zh-CN': zhCN, en };

/** Each language names itself in the switch, so someone who cannot read the current one still finds theirs. */
export const langNames: Record<Lang, string> = { 'zh-CN': '中文', en: 'English' };

const storageKey = 'guardpost.lang';

export function initialLang(): Lang {
  return localStorage.getItem(storageKey) === 'en' ? 'en' : 'zh-CN';
}

export function persistLang(lang: Lang): void {
  localStorage.setItem(storageKey, lang);
  document.documentElement.lang = lang;
}

export type Translate = (key: MsgKey, vars?: Record<string, string>) => string;

export function translator(lang: Lang): Translate {
  const table = tables[lang];
  return (key, vars) => {
    let s = table[key];
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
    return s;
  };
}

/** Looks up `${prefix}.${value}` for values the server may extend (kinds, types); unknown ones show as sent. */
export function translateOpen(t: Translate, prefix: 'event' | 'kind' | 'credential', value: string): string {
  const key = `${prefix}.${value}`;
  return key in zhCN ? t(key as MsgKey) : value;
}

export interface LangState {
  lang: Lang;
  t: Translate;
  setLang(lang: Lang): void;
}

export const LangContext = createContext<LangState>({ lang: 'zh-CN', t: translator('zh-CN'), setLang: () => undefined });

export function useLang(): LangState {
  return useContext(LangContext);
}
