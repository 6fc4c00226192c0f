// Japanese first, English by a remembered switch; all times in Japan time (Asia/Tokyo).

const KEY = 'hikeshi:lang';

const ja = {
  app: 'hikeshi 火消し',
  tagline: '医療機関サイバー事案の報告と初動支援',
  skip: '本文へ移動',
  lang_switch: 'English',
  lang_switch_label: 'Switch to English',
  sign_in: 'サインイン',
  sign_out: 'サインアウト',
  email: 'メールアドレス',
  password: 'パスワード',
  otp: 'ワンタイムパスワード（6桁）',
  otp_needed: '認証アプリの6桁のコードを入力してください。',
  sign_in_wait: 'この端末からのサインインの失敗が続いたため、{s}秒待ってから再度お試しください。アカウントはロックされていません。',
  signing_in: 'サインイン中…',
  signed_out: 'サインアウトしました。',
  session_expired: 'セッションが切れました。もう一度サインインしてください。',
  totp_title: '二要素認証の設定',
  totp_intro: 'この役割では二要素認証が必要です。認証アプリに次の秘密鍵を登録し、表示された6桁のコードを入力してください。',
  totp_secret: '秘密鍵',
  totp_url: '登録用 URL',
  totp_confirm: '登録を完了',
  nav_incidents: '事案一覧',
  nav_file: '新規報告',
  nav_queue: 'トリアージ',
  nav_proxy: '代理報告',
  nav_stats: '統計',
  nav_dispatches: '派遣',
  main_nav: 'メインメニュー',
  loading: '読み込み中…',
  not_found: '見つかりません。この事案は存在しないか、閲覧する権限がありません。',
  error: 'エラー',
  offline: '通信できません。接続を確認してください。入力内容は下書きとして保存されています。',
  retry: '再試行',
  none: 'なし',
  yes: 'はい',
  no: 'いいえ',
  save: '保存',
  cancel: '取消',
  reason: '理由',
  note: 'メモ',
  at: '日時（日本時間）',
  now: '今',
  unknown: '不明',
  // filing
  file_title: 'インシデントを報告',
  proxy_title: '電話による代理報告',
  file_intro: '分かっていることだけで構いません。★は必須です。入力内容は下書きとして自動保存されます。',
  draft_restored: '保存された下書きを復元しました。',
  draft_saved: '下書きを保存しました',
  discard_draft: '下書きを破棄',
  hospital: '医療機関',
  f_title: '件名 ★',
  f_title_hint: '例: 電子カルテのランサムウェア感染',
  f_category: '種別 ★',
  f_detected_at: '検知日時（日本時間） ★',
  f_aware_at: '認知日時（日本時間、任意）',
  f_aware_at_hint: '病院の誰かが事案またはその可能性を最初に知った日時。空欄なら検知日時。報告期限はこの日を1日目として数えます。',
  f_care_impact: '診療への影響 ★',
  f_affected_systems: '影響を受けたシステム',
  f_attack_vector: '侵入経路',
  f_personal_data: '個人情報の漏えい等 ★',
  f_none_reason: '「なし」と判断した理由',
  f_none_reason_hint: '電子カルテ等が被害を受けた攻撃では、理由がなければ「おそれあり」として扱い、個人情報保護委員会への報告対象になります。',
  f_persons: '対象人数（推定）',
  f_ransom_demand: '身代金の要求がある',
  f_ransomware_kinds: 'ランサムウェアの手口',
  f_note_text: '脅迫文（抜粋）',
  f_extension: '暗号化ファイルの拡張子',
  f_offline_backup: 'オフラインバックアップ',
  f_bcp: 'BCP（事業継続計画）を発動した',
  f_description: '状況の説明',
  f_contact: '連絡先（病院のメールが使えない場合に備えて電話番号を）',
  f_contact_name: '担当者名 ★',
  f_contact_phone: '電話番号 ★',
  f_contact_email: 'メールアドレス（任意）',
  f_drill: '訓練として報告する',
  f_reported_via: '受付方法',
  preview: '報告先を確認',
  preview_title: '報告先と期限（送信前の確認）',
  preview_stale: '入力が変わりました。送信前にもう一度「報告先を確認」を押してください。',
  preview_first: '送信する前に「報告先を確認」を押して、どこに報告されるかを確認してください。',
  submit: 'この内容で報告する',
  submitting: '送信中…',
  submitted: '報告しました',
  required_missing: '★の項目を入力してください: ',
  why: '理由',
  deadline: '期限',
  contacts: '送付先',
  required: '必須',
  recommended: '推奨',
  no_deadline: '期限なし（速やかに）',
  // list / detail
  my_incidents: '自院の事案',
  no_incidents: '事案はありません。',
  reference: '受付番号',
  status: '状態',
  severity: '重大度',
  priority: '優先度',
  reported_at: '報告日時',
  overdue: '期限超過',
  delivery_failed: '送信失敗（電話で連絡を）',
  drill: '訓練',
  obligations: '報告義務と期限',
  due: '期限',
  legal_due: '法定の期限',
  legal_due_note: '期限日が土日祝日・年末年始のため翌開庁日。hikeshi は元の期限日までの報告をお願いしています',
  remaining: 'あと',
  days: '日',
  hours: '時間',
  minutes: '分',
  overdue_by: '超過',
  fulfilled: '提出済み',
  fulfil: '提出済みにする',
  receipt: '受付番号（任意）',
  ppc_text: '個人情報保護委員会への報告文（貼り付け用）',
  copy: 'コピー',
  copied: 'コピーしました',
  timeline: '経過',
  add_note: 'メモを追加',
  status_report: '状況報告（第二報以降）',
  sr_damage: '被害状況',
  sr_response: '対応状況',
  sr_recovery: '復旧状況',
  sr_prevention: '再発防止策',
  send_report: '状況報告を送る',
  support: '支援要請',
  request_support: '支援を要請',
  needs: '必要な支援',
  mode: '形態',
  approve: '承認',
  decline: '却下',
  decision_reason: '判断の理由',
  milestones: '復旧のマイルストーン',
  record: '記録',
  record_now: '今の時刻で記録',
  recorded: '記録しました',
  transitions: '状態の変更',
  move_to: '次の状態へ',
  severity_override: '重大度の変更',
  severity_reason: '変更の理由 ★',
  notifications: '関係機関への通知',
  resend: '再送',
  resent: '再送を予約しました',
  attempts: '試行回数',
  sent_at: '送信日時',
  dispatch: '専門家の派遣',
  suggestions: '推奨チーム（順位順）',
  dispatch_team: 'このチームを派遣',
  dispatched: '派遣しました',
  responders: '専門家',
  score: '点',
  dispatches_of_incident: 'この事案の派遣',
  factors: '優先度の内訳',
  points: '点',
  hospital_info: '医療機関',
  beds: '病床数',
  roles: '地域の役割',
  contact: '連絡先',
  // queue
  queue_title: 'トリアージ待ち行列',
  filters: '絞り込み',
  all: 'すべて',
  apply: '適用',
  auto_refresh: '自動更新（30秒ごと）',
  last_updated: '最終更新',
  prefecture: '都道府県',
  category: '種別',
  drills: '訓練',
  real_only: '実事案のみ',
  drill_only: '訓練のみ',
  open: '開く',
  more: 'さらに表示',
  // stats
  stats_title: '対応状況の統計',
  group_by: '集計単位',
  from: '開始日',
  to: '終了日',
  show: '表示',
  export_csv: 'CSV を出力',
  pseudonymize: '医療機関名を伏せる',
  chart_care: '診療再開までの時間（中央値・90%点）',
  chart_full: '完全復旧までの時間（中央値・90%点）',
  chart_count: '件数',
  as_of: '集計時刻',
  median: '中央値',
  p90: '90%点',
  hours_unit: '時間',
  no_data: 'データがありません。',
  data_table: 'データ表',
  count: '件数',
  group: '区分',
  // dispatches
  my_dispatches: '担当する派遣',
  no_dispatches: '担当する派遣はありません。',
  next_step: '次の手順',
  dispatch_status_set: '派遣状況を更新しました',
  incident_detail: '事案の詳細',
  optional_note: 'メモ（任意）',
  conversation: '連絡（メール・電話）',
  write_message: 'メッセージを書く',
  msg_to: '宛先',
  msg_from: '差出人',
  msg_subject: '件名',
  msg_body: '本文',
  msg_send: '送信',
  msg_sent: 'メッセージを送信待ちに入れました。',
  to_hospital: '医療機関',
  to_ministry: '厚生労働省（当番）',
  log_call: '電話を記録',
  call_direction: '着信・発信',
  call_in: '着信（先方から）',
  call_out: '発信（こちらから）',
  call_with: '相手',
  call_at: '日時',
  call_authority: '通話の相手（関係機関）',
  call_summary: '要旨',
  attachments: '添付ファイル',
  sniffed: '内容から判定',
  not_stored: '大きすぎるため保存していません',
  download: '保存（開かずにダウンロード）',
  auto_reply: '自動応答',
  nav_inbox: '受信箱',
  inbox_title: '事案に結び付かない受信メール',
  inbox_intro: 'どの事案にも結び付かなかったメール、事案の関係者ではない差出人からのメール、差出人を確認できないメールです。内容を確認して事案に割り当ててください。',
  inbox_empty: '受信箱は空です。',
  assign_to: '割り当てる事案',
  assign: '事案に割り当て',
  assigned: '事案に割り当てました。',
  // the national picture
  nav_map: '全国の状況',
  nav_campaigns: '攻撃キャンペーン',
  nav_advisories: '注意喚起',
  nav_profile: '自院の設定',
  map_title: '全国の状況（都道府県別）',
  map_intro: '対応中の事案がある都道府県を、診療への影響が最も大きい事案の程度で色分けしています。数字は対応中の事案の件数です。都道府県を選ぶと、その都道府県の事案をトリアージ待ち行列で開きます。',
  map_label: '都道府県のタイル地図',
  map_legend: '凡例',
  map_quiet: '対応中の事案なし',
  map_campaign_mark: '攻撃キャンペーンの疑いあり',
  map_table: '対応中の事案または攻撃キャンペーンがある都道府県',
  map_none_active: '対応中の事案や攻撃キャンペーンがある都道府県はありません。',
  map_refresh: '60秒ごとに自動更新します。',
  active_incidents: '対応中の事案',
  worst_impact: '最も大きい診療への影響',
  care_impact: '診療への影響',
  campaign: 'キャンペーン',
  campaigns: '攻撃キャンペーン',
  campaigns_title: '攻撃キャンペーン（複数の医療機関への同種の攻撃）',
  campaigns_intro: '同じ脆弱性・製品・攻撃の痕跡を持つ複数の事案を hikeshi が検知して提案します。共通する証拠を確認し、確定または却下してください。',
  campaign_none: '該当する攻撃キャンペーンはありません。',
  incident_count: '事案数',
  detected_at: '検知日時',
  decided_at: '判断日時',
  evidence: '共通する証拠',
  link_kind: '種類',
  link_value: '値',
  link_incidents: '該当する事案',
  campaign_incidents: '対象の事案',
  campaign_decide: '確定または却下',
  campaign_confirm: 'キャンペーンとして確定',
  campaign_dismiss: '却下（関連なし）',
  campaign_confirmed: '攻撃キャンペーンとして確定しました。',
  campaign_dismissed: '却下しました。',
  campaign_not_found: '見つかりません。この攻撃キャンペーンは存在しないか、閲覧する権限がありません。',
  suggested_criteria: '推奨される注意喚起の宛先',
  write_advisory: 'この件で注意喚起を書く',
  advisories_title: '注意喚起',
  advisories_mine: '自院あての注意喚起',
  advisories_none: '注意喚起はありません。',
  advisory_new: '注意喚起を作成',
  advisory_not_found: '見つかりません。この注意喚起は存在しないか、閲覧する権限がありません。',
  adv_title: '件名 ★',
  adv_body: '本文 ★',
  adv_english: '英語版（任意）',
  adv_title_en: '件名（英語）',
  adv_body_en: '本文（英語）',
  adv_criteria: '宛先の条件',
  adv_criteria_hint: '条件に当てはまる医療機関に送ります。製品は、各医療機関が「自院の設定」に登録したリモート接続製品と照合します。',
  adv_vendor: '製品のベンダー',
  adv_product: '製品名',
  adv_prefectures: '都道府県を選ぶ（{n}件選択中）',
  adv_all: 'すべての医療機関に送る',
  adv_no_criteria: '宛先の条件を1つ以上指定するか、「すべての医療機関に送る」を選んでください。',
  adv_send: '注意喚起を送る',
  adv_sent: '注意喚起を送りました。',
  adv_from_campaign: 'もとの攻撃キャンペーン',
  criteria_all: 'すべての医療機関',
  created_by: '作成者',
  recipients: '送付先の医療機関',
  ack_counts: '受領確認 {a} / {n}',
  notified_at: '通知日時',
  hours_since: '通知からの経過',
  reminded_at: '再通知日時',
  acknowledged_at: '受領確認日時',
  not_acknowledged: '未確認',
  acknowledged: '受領確認済み',
  acknowledge: '受領を確認する',
  ack_done: '受領を確認しました。',
  remind: '未確認の医療機関に再通知',
  remind_hours: '通知から何時間以上たった医療機関に送るか',
  remind_send: '再通知する',
  reminded: '{n}件の医療機関に再通知しました。',
  ack_title: '注意喚起の受領確認',
  ack_intro: '厚生労働省からの注意喚起を受け取ったことを確認します。サインインは不要です。',
  ack_bad_link: 'リンクが不完全です。メールに記載されたリンクをもう一度開いてください。',
  profile_title: '自院の設定',
  remote_access: 'リモート接続に使う製品',
  remote_access_intro: 'VPN 装置、リモートデスクトップ、保守用回線の製品を登録しておくと、その製品の脆弱性が悪用されたときに注意喚起が届きます。',
  ra_item: 'リモート接続 {n}',
  ra_kind: '種類',
  ra_vendor: 'ベンダー ★',
  ra_product: '製品名 ★',
  ra_version: 'バージョン（任意）',
  ra_add: '製品を追加',
  ra_remove: '削除',
  ra_removed: '削除しました。保存するまで登録は変わりません。',
  ra_none: '登録された製品はありません。',
  ra_saved: 'リモート接続製品を保存しました。',
  conflict: '他の人が先に変更しました。ページを読み込み直してから、もう一度変更してください。',
  reload: '読み込み直す',
  checklist: 'サイバーセキュリティ対策チェックリスト',
  checklist_short: 'チェックリスト',
  checklist_intro: '各項目の実施状況を記録してください。まだ記録していない項目は「未記録」と表示されます。',
  cl_since: '実施している期間の開始日（任意）',
  cl_not_recorded: '未記録',
  cl_updated: '最終更新',
  cl_history: '変更の履歴',
  cl_saved: 'チェックリストを保存しました。',
  cl_save: 'チェックリストを保存',
  stats_csv: 'この集計を CSV で出力',
  map_tile_unit: '件',
  list_sep: '、',
  cl_state: '実施状況',
  cl_done: '実施している',
  cl_not_done: '実施していない',
  campaigns_open: '提案中と確認済み',
  ra_limit: '登録できるのは20件までです。',
  cl_since_short: '{d}から',
  campaign_more: 'ほか{n}件',
};

const en = {
  app: 'hikeshi',
  tagline: 'Hospital cyber-incident reporting and first response',
  skip: 'Skip to content',
  lang_switch: '日本語',
  lang_switch_label: '日本語に切り替え',
  sign_in: 'Sign in',
  sign_out: 'Sign out',
  email: 'E-mail',
  password: 'Password',
  otp: 'One-time password (6 digits)',
  otp_needed: 'Enter the six-digit code from your authenticator app.',
  sign_in_wait: 'Too many failed sign-ins from this device: please wait {s} seconds and try again. Your account is not locked.',
  signing_in: 'Signing in…',
  signed_out: 'Signed out.',
  session_expired: 'Your session ended. Please sign in again.',
  totp_title: 'Set up two-factor authentication',
  totp_intro: 'Your role requires two-factor authentication. Add this secret to your authenticator app and enter the six-digit code it shows.',
  totp_secret: 'Secret',
  totp_url: 'Enrolment URL',
  totp_confirm: 'Finish enrolment',
  nav_incidents: 'Incidents',
  nav_file: 'Report',
  nav_queue: 'Triage',
  nav_proxy: 'Proxy filing',
  nav_stats: 'Statistics',
  nav_dispatches: 'Dispatches',
  main_nav: 'Main menu',
  loading: 'Loading…',
  not_found: 'Not found. This incident does not exist or you may not see it.',
  error: 'Error',
  offline: 'Cannot reach hikeshi. Check the connection; what you typed is kept as a draft.',
  retry: 'Retry',
  none: 'None',
  yes: 'Yes',
  no: 'No',
  save: 'Save',
  cancel: 'Cancel',
  reason: 'Reason',
  note: 'Note',
  at: 'Time (Japan time)',
  now: 'Now',
  unknown: 'Unknown',
  file_title: 'Report an incident',
  proxy_title: 'Proxy filing after a phone call',
  file_intro: 'Tell what you know; ★ marks required fields. What you type is saved as a draft automatically.',
  draft_restored: 'Your saved draft was restored.',
  draft_saved: 'Draft saved',
  discard_draft: 'Discard draft',
  hospital: 'Hospital',
  f_title: 'Title ★',
  f_title_hint: 'e.g. Ransomware on the electronic medical records',
  f_category: 'Category ★',
  f_detected_at: 'Detected at (Japan time) ★',
  f_aware_at: 'Aware at (Japan time, optional)',
  f_aware_at_hint: 'When anyone at the hospital first learned of the event or its possibility; empty means the detection time. Deadlines count this day as day 1.',
  f_care_impact: 'Impact on care ★',
  f_affected_systems: 'Affected systems',
  f_attack_vector: 'Attack vector',
  f_personal_data: 'Personal data leak ★',
  f_none_reason: 'Why none',
  f_none_reason_hint: 'When an attack hit the EMR or another patient system, "none" without a reason counts as "suspected" and the PPC must be told.',
  f_persons: 'Persons affected (estimate)',
  f_ransom_demand: 'A ransom was demanded',
  f_ransomware_kinds: 'Ransomware behaviour',
  f_note_text: 'Ransom note (excerpt)',
  f_extension: 'Extension of encrypted files',
  f_offline_backup: 'Offline backup',
  f_bcp: 'The business continuity plan was activated',
  f_description: 'Description',
  f_contact: 'Contact (a phone number, in case the hospital e-mail is down)',
  f_contact_name: 'Name ★',
  f_contact_phone: 'Phone ★',
  f_contact_email: 'E-mail (optional)',
  f_drill: 'File as a drill',
  f_reported_via: 'Received by',
  preview: 'Check where this goes',
  preview_title: 'Authorities and deadlines (before you submit)',
  preview_stale: 'You changed the form. Press “Check where this goes” again before submitting.',
  preview_first: 'Before submitting, press “Check where this goes” to see who will be notified.',
  submit: 'Submit this report',
  submitting: 'Submitting…',
  submitted: 'Reported',
  required_missing: 'Fill in the fields marked ★: ',
  why: 'Why',
  deadline: 'Deadline',
  contacts: 'Sent to',
  required: 'Required',
  recommended: 'Recommended',
  no_deadline: 'No fixed deadline (promptly)',
  my_incidents: 'Your hospital’s incidents',
  no_incidents: 'No incidents.',
  reference: 'Reference',
  status: 'Status',
  severity: 'Severity',
  priority: 'Priority',
  reported_at: 'Reported',
  overdue: 'Overdue',
  delivery_failed: 'Delivery failed (phone them)',
  drill: 'Drill',
  obligations: 'Obligations and deadlines',
  due: 'Due',
  legal_due: 'Legal deadline',
  legal_due_note: 'the due day is a weekend, holiday or 12/29–1/3, so the law moves it to the next open day; hikeshi keeps you to the earlier day',
  remaining: '',
  days: 'd',
  hours: 'h',
  minutes: 'min',
  overdue_by: 'overdue',
  fulfilled: 'Submitted',
  fulfil: 'Mark as submitted',
  receipt: 'Receipt number (optional)',
  ppc_text: 'Report text for the PPC (to paste)',
  copy: 'Copy',
  copied: 'Copied',
  timeline: 'Timeline',
  add_note: 'Add note',
  status_report: 'Status report',
  sr_damage: 'Damage',
  sr_response: 'Response',
  sr_recovery: 'Recovery',
  sr_prevention: 'Prevention',
  send_report: 'Send status report',
  support: 'Support requests',
  request_support: 'Request support',
  needs: 'Needs',
  mode: 'Mode',
  approve: 'Approve',
  decline: 'Decline',
  decision_reason: 'Reason for the decision',
  milestones: 'Recovery milestones',
  record: 'Record',
  record_now: 'Record now',
  recorded: 'Recorded',
  transitions: 'Change status',
  move_to: 'Move to',
  severity_override: 'Override severity',
  severity_reason: 'Reason ★',
  notifications: 'Notifications to authorities',
  resend: 'Resend',
  resent: 'Resend queued',
  attempts: 'Attempts',
  sent_at: 'Sent',
  dispatch: 'Dispatch experts',
  suggestions: 'Suggested teams (ranked)',
  dispatch_team: 'Dispatch this team',
  dispatched: 'Dispatched',
  responders: 'Responders',
  score: 'pts',
  dispatches_of_incident: 'Dispatches for this incident',
  factors: 'Why this priority',
  points: 'pts',
  hospital_info: 'Hospital',
  beds: 'Beds',
  roles: 'Regional roles',
  contact: 'Contact',
  queue_title: 'Triage queue',
  filters: 'Filters',
  all: 'All',
  apply: 'Apply',
  auto_refresh: 'Refresh every 30 s',
  last_updated: 'Updated',
  prefecture: 'Prefecture',
  category: 'Category',
  drills: 'Drills',
  real_only: 'Real incidents only',
  drill_only: 'Drills only',
  open: 'Open',
  more: 'Show more',
  stats_title: 'Outcome statistics',
  group_by: 'Group by',
  from: 'From',
  to: 'To',
  show: 'Show',
  export_csv: 'Export CSV',
  pseudonymize: 'Hide hospital identity',
  chart_care: 'Time to care resumed (median and 90th percentile)',
  chart_full: 'Time to full recovery (median and 90th percentile)',
  chart_count: 'Incidents',
  as_of: 'Computed at',
  median: 'Median',
  p90: '90th pct',
  hours_unit: 'h',
  no_data: 'No data.',
  data_table: 'Data table',
  count: 'Count',
  group: 'Group',
  my_dispatches: 'My dispatches',
  no_dispatches: 'You have no dispatches.',
  next_step: 'Next step',
  dispatch_status_set: 'Dispatch updated',
  incident_detail: 'Incident detail',
  optional_note: 'Note (optional)',
  conversation: 'Correspondence (e-mail and phone)',
  write_message: 'Write a message',
  msg_to: 'To',
  msg_from: 'From',
  msg_subject: 'Subject',
  msg_body: 'Message',
  msg_send: 'Send',
  msg_sent: 'The message is queued for sending.',
  to_hospital: 'The hospital',
  to_ministry: 'The ministry (duty officers)',
  log_call: 'Log a phone call',
  call_direction: 'Incoming or outgoing',
  call_in: 'Incoming (they called)',
  call_out: 'Outgoing (we called)',
  call_with: 'Who',
  call_at: 'When',
  call_authority: 'On the other end (authority)',
  call_summary: 'Summary',
  attachments: 'Attachments',
  sniffed: 'by content',
  not_stored: 'too large: not kept',
  download: 'Save (download, do not open)',
  auto_reply: 'Automatic reply',
  nav_inbox: 'Inbox',
  inbox_title: 'Mail that matched no incident',
  inbox_intro: 'Mail that matched no incident, mail from senders who are not a party to the incident it names, and mail whose sender could not be verified. Read it and assign it to an incident.',
  inbox_empty: 'The inbox is empty.',
  assign_to: 'Incident',
  assign: 'Assign to the incident',
  assigned: 'Assigned to the incident.',
  nav_map: 'National picture',
  nav_campaigns: 'Campaigns',
  nav_advisories: 'Advisories',
  nav_profile: 'Hospital profile',
  map_title: 'National picture by prefecture',
  map_intro: 'Prefectures with active incidents are coloured by the worst impact on care among them; the number is the count of active incidents. Choose a prefecture to open its incidents in the triage queue.',
  map_label: 'Tile map of the prefectures',
  map_legend: 'Legend',
  map_quiet: 'No active incident',
  map_campaign_mark: 'Part of a suspected campaign',
  map_table: 'Prefectures with active incidents or campaigns',
  map_none_active: 'No prefecture has an active incident or a campaign.',
  map_refresh: 'Refreshes every 60 s.',
  active_incidents: 'Active incidents',
  worst_impact: 'Worst impact on care',
  care_impact: 'Impact on care',
  campaign: 'Campaign',
  campaigns: 'Campaigns',
  campaigns_title: 'Campaigns (the same attack on several hospitals)',
  campaigns_intro: 'hikeshi proposes a campaign when several incidents share a vulnerability, a product or an indicator. Check the shared evidence, then confirm or dismiss it.',
  campaign_none: 'No campaigns.',
  incident_count: 'Incidents',
  detected_at: 'Detected',
  decided_at: 'Decided',
  evidence: 'Shared evidence',
  link_kind: 'Kind',
  link_value: 'Value',
  link_incidents: 'Incidents',
  campaign_incidents: 'Incidents in the campaign',
  campaign_decide: 'Confirm or dismiss',
  campaign_confirm: 'Confirm the campaign',
  campaign_dismiss: 'Dismiss (unrelated)',
  campaign_confirmed: 'Confirmed as a campaign.',
  campaign_dismissed: 'Dismissed.',
  campaign_not_found: 'Not found. This campaign does not exist or you may not see it.',
  suggested_criteria: 'Suggested advisory recipients',
  write_advisory: 'Write an advisory about this',
  advisories_title: 'Advisories',
  advisories_mine: 'Advisories for your hospital',
  advisories_none: 'No advisories.',
  advisory_new: 'Write an advisory',
  advisory_not_found: 'Not found. This advisory does not exist or you may not see it.',
  adv_title: 'Title ★',
  adv_body: 'Text ★',
  adv_english: 'English version (optional)',
  adv_title_en: 'Title (English)',
  adv_body_en: 'Text (English)',
  adv_criteria: 'Recipients',
  adv_criteria_hint: 'Sent to the hospitals that match. Products are matched against the remote-access products each hospital registered in its profile.',
  adv_vendor: 'Vendor',
  adv_product: 'Product',
  adv_prefectures: 'Choose prefectures ({n} chosen)',
  adv_all: 'Send to every hospital',
  adv_no_criteria: 'Give at least one recipient condition, or choose “Send to every hospital”.',
  adv_send: 'Send the advisory',
  adv_sent: 'The advisory was sent.',
  adv_from_campaign: 'From the campaign',
  criteria_all: 'Every hospital',
  created_by: 'Written by',
  recipients: 'Recipient hospitals',
  ack_counts: '{a} of {n} acknowledged',
  notified_at: 'Notified',
  hours_since: 'Since notified',
  reminded_at: 'Reminded',
  acknowledged_at: 'Acknowledged',
  not_acknowledged: 'Not acknowledged',
  acknowledged: 'Acknowledged',
  acknowledge: 'Acknowledge',
  ack_done: 'Acknowledged.',
  remind: 'Remind those who have not acknowledged',
  remind_hours: 'Only hospitals notified at least this many hours ago',
  remind_send: 'Send reminders',
  reminded: 'Reminded {n} hospitals.',
  ack_title: 'Acknowledge an advisory',
  ack_intro: 'Confirm that your hospital received the advisory from the ministry. No sign-in is needed.',
  ack_bad_link: 'The link is incomplete. Open the link in the e-mail again.',
  profile_title: 'Hospital profile',
  remote_access: 'Remote-access products',
  remote_access_intro: 'Register your VPN appliances, remote-desktop and maintenance-line products: when a vulnerability in one of them is exploited, you receive an advisory.',
  ra_item: 'Remote access {n}',
  ra_kind: 'Kind',
  ra_vendor: 'Vendor ★',
  ra_product: 'Product ★',
  ra_version: 'Version (optional)',
  ra_add: 'Add a product',
  ra_remove: 'Remove',
  ra_removed: 'Removed. Nothing changes until you save.',
  ra_none: 'No products registered.',
  ra_saved: 'Remote-access products saved.',
  conflict: 'Someone else changed this first. Reload the page, then make your change again.',
  reload: 'Reload',
  checklist: 'Cyber-security checklist',
  checklist_short: 'Checklist',
  checklist_intro: 'Record where each item stands. Items you have not recorded yet show as “Not recorded”.',
  cl_since: 'In place since (optional)',
  cl_not_recorded: 'Not recorded',
  cl_updated: 'Last updated',
  cl_history: 'History',
  cl_saved: 'Checklist saved.',
  cl_save: 'Save the checklist',
  stats_csv: 'Export this summary as CSV',
  map_tile_unit: ' active',
  list_sep: ', ',
  cl_state: 'Status',
  cl_done: 'In place',
  cl_not_done: 'Not in place',
  campaigns_open: 'Proposed and confirmed',
  ra_limit: 'At most 20 products can be registered.',
  cl_since_short: 'since {d}',
  campaign_more: 'and {n} more',
};

// Enumerations come from the server's one vocabulary (GET /api/v1/vocabulary), the source that
// e-mails and reports use too; the last copy is kept for a reload without a network.
const VOCAB_KEY = 'hikeshi.vocabulary';
let vocab = {};
try { vocab = JSON.parse(localStorage.getItem(VOCAB_KEY) || '{}'); } catch { vocab = {}; }

/** The vocabulary's name for a kind of label used in these pages. */
const VOCAB_NAME = {
  status: 'incident_status', system: 'affected_system', personal_data: 'personal_data_status',
  obligation: 'obligation_kind', mode: 'support_mode', update: 'update_kind', factor: 'priority_factor',
  group_by: 'stats_group',
};

/** Loads the vocabulary (before the first page is drawn); keeps the cached one when offline. */
export async function loadVocabulary() {
  try {
    const res = await fetch('/api/v1/vocabulary', { headers: { Accept: 'application/json' } });
    if (!res.ok) return;
    vocab = await res.json();
    try { localStorage.setItem(VOCAB_KEY, JSON.stringify(vocab)); } catch { /* storage full or blocked */ }
  } catch { /* offline: the cached copy stands */ }
}

function terms(kind) { return vocab[VOCAB_NAME[kind] || kind] || []; }

let lang = 'ja';
try {
  const saved = localStorage.getItem(KEY);
  if (saved === 'en' || saved === 'ja') lang = saved;
} catch { /* storage may be blocked */ }

export function getLang() { return lang; }

export function setLang(l) {
  lang = l === 'en' ? 'en' : 'ja';
  try { localStorage.setItem(KEY, lang); } catch { /* ignore */ }
  document.documentElement.lang = lang;
}

export function t(key) {
  const d = lang === 'en' ? en : ja;
  return d[key] ?? ja[key] ?? key;
}

/** A string with {placeholders} filled in: tf('reminded', { n: 3 }). */
export function tf(key, vars) {
  return t(key).replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
}

/** The label of an enumeration value, e.g. label('status', 'reported'). */
export function label(kind, value) {
  if (value === null || value === undefined) return t('none');
  const e = terms(kind).find((x) => x.value === value);
  if (!e) return String(value);
  return lang === 'en' ? e.en : e.ja;
}

/** The values of an enumeration, in its order. */
export function enumValues(kind) { return terms(kind).map((x) => x.value); }

/** A priority factor such as `care_impact:emergency_suspended` in words. */
export function factorLabel(factor) {
  const [name, value] = String(factor).split(':');
  if (value === undefined) return label('category', name);
  const kindOf = { care_impact: 'care_impact', regional_role: 'regional_role', offline_backup: 'offline_backup', personal_data: 'personal_data' };
  const v = kindOf[name] ? label(kindOf[name], value) : value;
  return `${label('factor', name)}: ${v}`;
}

/** A problem document's reason in the current language (titles are "日本語 / English"). */
export function problemText(p) {
  if (!p) return t('error');
  const title = String(p.title || t('error'));
  const parts = title.split(' / ');
  const head = lang === 'en' ? (parts[1] || parts[0]) : parts[0];
  const fields = Array.isArray(p.errors) ? p.errors.map((e) => `${e.field}: ${e.message}`).join('; ') : '';
  return [head, fields || p.detail].filter(Boolean).join(' — ');
}

const TZ = 'Asia/Tokyo';

/** An instant shown in Japan time: 2026/11/22 06:10. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const s = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'ja-JP', {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(d);
  return `${s} JST`;
}

/** The parts of an instant in Japan time. */
function jstParts(d) {
  const p = {};
  for (const x of new Intl.DateTimeFormat('en-CA', {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(d)) p[x.type] = x.value;
  if (p.hour === '24') p.hour = '00';
  return p;
}

/** A value for <input type="datetime-local"> showing `d` in Japan time. */
export function toJstInput(d = new Date()) {
  const p = jstParts(d);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** The value of a datetime-local input, read as Japan time, as RFC 3339 with +09:00. */
export function fromJstInput(v) {
  if (!v) return null;
  const withSeconds = v.length === 16 ? `${v}:00` : v;
  return `${withSeconds}+09:00`;
}

/** Today in Japan as YYYY-MM-DD. */
export function jstDate(d = new Date()) {
  const p = jstParts(d);
  return `${p.year}-${p.month}-${p.day}`;
}

/** "あと 3日 4時間" / "3d 4h" until `iso`, or the time overdue. */
export function countdown(iso, now = Date.now()) {
  if (!iso) return { text: t('no_deadline'), overdue: false };
  let ms = new Date(iso).getTime() - now;
  const overdue = ms < 0;
  ms = Math.abs(ms);
  const d = Math.floor(ms / 86400000);
  const h = Math.floor((ms % 86400000) / 3600000);
  const m = Math.floor((ms % 3600000) / 60000);
  const span = d > 0 ? `${d}${t('days')} ${h}${t('hours')}` : `${h}${t('hours')} ${m}${t('minutes')}`;
  if (overdue) return { text: lang === 'en' ? `${span} ${t('overdue_by')}` : `${span}${t('overdue_by')}`, overdue };
  return { text: lang === 'en' ? `${span} left` : `${t('remaining')} ${span}`, overdue };
}

/** Seconds as hours with one decimal. */
export function hoursOf(seconds) {
  return seconds === null || seconds === undefined ? null : Math.round((seconds / 3600) * 10) / 10;
}

export const PREFECTURES = ['北海道', '青森県', '岩手県', '宮城県', '秋田県', '山形県', '福島県', '茨城県', '栃木県', '群馬県',
  '埼玉県', '千葉県', '東京都', '神奈川県', '新潟県', '富山県', '石川県', '福井県', '山梨県', '長野県', '岐阜県', '静岡県',
  '愛知県', '三重県', '滋賀県', '京都府', '大阪府', '兵庫県', '奈良県', '和歌山県', '鳥取県', '島根県', '岡山県', '広島県',
  '山口県', '徳島県', '香川県', '愛媛県', '高知県', '福岡県', '佐賀県', '長崎県', '熊本県', '大分県', '宮崎県', '鹿児島県', '沖縄県'];

export const PREFECTURES_EN = ['Hokkaido', 'Aomori', 'Iwate', 'Miyagi', 'Akita', 'Yamagata', 'Fukushima', 'Ibaraki', 'Tochigi',
  'Gunma', 'Saitama', 'Chiba', 'Tokyo', 'Kanagawa', 'Niigata', 'Toyama', 'Ishikawa', 'Fukui', 'Yamanashi', 'Nagano', 'Gifu',
  'Shizuoka', 'Aichi', 'Mie', 'Shiga', 'Kyoto', 'Osaka', 'Hyogo', 'Nara', 'Wakayama', 'Tottori', 'Shimane', 'Okayama',
  'Hiroshima', 'Yamaguchi', 'Tokushima', 'Kagawa', 'Ehime', 'Kochi', 'Fukuoka', 'Saga', 'Nagasaki', 'Kumamoto', 'Oita',
  'Miyazaki', 'Kagoshima', 'Okinawa'];

/** The JIS codes "01".."47" in order. */
export const PREFECTURE_CODES = PREFECTURES.map((p, n) => String(n + 1).padStart(2, '0'));

/** A prefecture's name in the current language from its two-digit JIS code (the code itself if unknown). */
export function prefectureName(code) {
  const n = Number(code) - 1;
  const list = lang === 'en' ? PREFECTURES_EN : PREFECTURES;
  return Number.isInteger(n) && list[n] ? list[n] : String(code ?? '');
}

/** The items of the hospitals' cyber-security checklist, in the vocabulary's order. */
export function checklistItems() {
  const v = enumValues('checklist_item');
  return v.length ? v : ['contact_chart', 'offline_backup', 'bcp', 'external_connections', 'two_factor'];
}
