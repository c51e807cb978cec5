/**
 * What the bounce classifier knows, as data, in one place. Every row is a fact about how mail
 * systems report failures: enhanced status codes (RFC 3463, the IANA registry of RFC 5248),
 * basic reply codes (RFC 5321) and the phrases real MTAs and mailbox providers write.
 * Written for this project from the RFCs and from reading bounce messages; no other
 * classifier's tables were copied.
 *
 * Phrases are matched against lower-cased, whitespace-collapsed text.
 */
import type { BounceReason } from '../results.ts';

/** A phrase row: when `pattern` matches the diagnostic, the reason is `reason`. */
export interface PhraseRow {
  readonly reason: BounceReason;
  readonly pattern: RegExp;
  /**
   * A temporary condition that, reported back (a delay warning, a failure quoting a 4.x.x
   * status, or one quoting no code at all), means the sending queue gave up retrying: the
   * reason becomes this instead (`expired`).
   */
  readonly whenFinal?: BounceReason;
  /**
   * What the phrase means when the server only said it after DATA, having accepted the
   * recipient at RCPT TO: a terse "user unknown" then covers for the recipient's filter.
   */
  readonly afterData?: BounceReason;
  /**
   * The phrase states that the recipient address itself is bad: it does not exist ("no such
   * user", "mailbox not found", "invalid mailbox") or was refused ("recipient address
   * rejected"). Such a statement is the most specific thing a reply says about the recipient:
   * - a mailbox-disabled or not-authorized status (X.2.1, X.7.1) does not turn it into the
   *   recipient's filter (only the DATA stage does, see `afterData`; the terse stock "user
   *   unknown" that filters and access tables borrow is not such a row);
   * - a vaguer cause in the same permanent reply (a system, security, policy or protocol word)
   *   yields to it;
   * - a weak one is not overridden by a status class of another subject that decides nothing
   *   about the recipient (protocol X.5.x, security X.7.0 and X.7.1).
   */
  readonly aboutRecipient?: boolean;
  /** What the phrase means when the status or reply code is temporary (4.x.x / 4xx). */
  readonly ifTemporary?: BounceReason;
  /**
   * A generic wrapper ("Service unavailable", "Access denied"): a specific phrase elsewhere in
   * the report (e.g. a transcript line "unknown user") wins over it.
   */
  readonly weak?: boolean;
}

/**
 * Diagnostic phrases, most specific first: the first matching row decides. A row sits above
 * another when its phrase is the more precise cause (e.g. "over quota" beats "mailbox
 * unavailable", "relay … without authentication" beats "relay").
 */
export const REASON_PHRASES: readonly PhraseRow[] = [
  // ---- the message itself was too large (checked first: "size" words also appear in quota texts)
  { reason: 'exceedlimit', pattern: /message length exceeds (?:administrative )?limit|exceeds? (?:the )?(?:limit set by (?:the )?recipient|recipient'?s? (?:size )?limit)/ }, // RFC 3463 X.2.3 wording, per-recipient limits
  { reason: 'mesgtoobig', pattern: /message (?:size )?(?:is |was )?(?:too (?:big|large)|larger than)/ }, // "552 Message size too large"
  { reason: 'mesgtoobig', pattern: /message (?:size|length) (?:\S+ )?exceeds? (?:the )?(?:(?:fixed|maximum|configured|allowed|max) )*(?:message )?(?:size|limit)/ }, // Postfix/Exim: "message size exceeds fixed maximum message size"
  { reason: 'mesgtoobig', pattern: /(?:size of (?:the )?message|message) exceeds? (?:the )?(?:allowed|maximum|max) |(?:mail|message|email) (?:is )?too (?:big|large)/ }, // "message exceeds the maximum size", Gmail "message … is too large"
  { reason: 'mesgtoobig', pattern: /exceeds? (?:the )?(?:maximum|max) (?:allowed )?(?:message |mail )?size|\bmail ?size limit|size limit exceeded for message|message too big|file too large|message size (?:limit )?exceeded|line limit exceeded/ }, // 1&1 "Mail size limit exceeded", Domino
  { reason: 'mesgtoobig', pattern: /message size exceeds (?:the )?(?:maximum|max|limit)|exceeds? the maximum (?:allowed|permitted) (?:for|size)|size exceeds? (?:the )?(?:maximum|allowed|permitted)|exceeded maximum (?:inbound|incoming) message size|exceeded the maximum (?:inbound|incoming) message size|message (?:is )?bigger than/ }, // Domino "Message size exceeds the maximum allowed", Communicate/site gateways "exceeded maximum inbound message size"
  { reason: 'mesgtoobig', pattern: /message (?:trop (?:volumineux|gros|grand|lourd))|taille (?:du message |de l'e-?mail |du courriel )?(?:d[ée]passe|exc[eè]de|sup[ée]rieure [àa])|(?:message|courriel) (?:d[ée]passe|exc[eè]de) la taille/ }, // French: "message trop volumineux", "la taille du message dépasse la limite" (Orange, La Poste, Free)
  { reason: 'mesgtoobig', pattern: /messaggio (?:[èe] )?troppo (?:grande|grosso|pesante)|dimension[ei](?: del messaggio)? (?:supera|eccede|superiore)|dimensioni (?:del messaggio )?eccessive/ }, // Italian: "messaggio troppo grande", "la dimensione del messaggio supera il limite" (Libero, Aruba)
  { reason: 'mesgtoobig', pattern: /message file too big|exceeded (?:\S+ )?(?:message )?size limits?|(?:size of (?:the )?message|message) (?:\S+ )?exceeds? (?:the |its )?(?:\S+ )?(?:size )?limit|message too big for system/ }, // Postfix cleanup "552 5.3.4 Error: message file too big", Gmail "552 5.2.3 Your message exceeded Google's message size limits", RFC 3463 X.3.4 "Message too big for system"
  { reason: 'mesgtoobig', pattern: /(?:nachricht|e-?mail|mail) (?:ist )?zu gro(?:ß|ss)|(?:nachrichten|mail|e-mail)-?gr[öo](?:ß|ss)e (?:[üu]berschreitet|[üu]bersteigt)|(?:zul[äa]ssige|erlaubte) (?:nachrichten)?gr[öo](?:ß|ss)e (?:wurde )?[üu]berschritten/ }, // German: "Die Nachricht ist zu groß", "Nachrichtengröße überschreitet" (GMX/WEB.DE, T-Online, Exchange)
  { reason: 'mesgtoobig', pattern: /mensaje (?:es )?demasiado (?:grande|extenso|pesado)|tama[ñn]o (?:del mensaje )?(?:excede|supera|sobrepasa)|mensagem (?:[eé] )?(?:muito|demasiado) grande|tamanho (?:da mensagem )?(?:excede|ultrapassa|maior que)/ }, // Spanish "mensaje demasiado grande", Portuguese "mensagem muito grande", "o tamanho da mensagem excede"
  { reason: 'mesgtoobig', pattern: /(?:слишком больш[а-яё]+|превышен[а-яё]*) (?:размер[а-яё]* )?(?:письм|сообщени)|размер (?:письма|сообщения) (?:превышает|больше)|(?:письмо|сообщение) слишком больш/ }, // Russian: "слишком большое письмо", "размер письма превышает допустимый" (Mail.Ru, Yandex)
  { reason: 'mesgtoobig', pattern: /(?:邮件|郵件|信件|电邮)(?:大小|尺寸|体积)?(?:过大|過大|太大|超过|超過|超出)|(?:邮件|郵件)大小超|(?:メール|メッセージ)の?(?:サイズ|容量)が(?:大きすぎ|制限を超|上限を超)|メールサイズ(?:制限|オーバー|超過)/ }, // Chinese (QQ, 163, Sina, HiNet) "邮件过大", "郵件大小超過限制"; Japanese ISPs "メールのサイズが大きすぎる"

  // ---- provider wordings that name their cause only by the provider's own convention
  { reason: 'spamdetected', pattern: /mail rejete\. mail rejected\./ }, // Orange (orange.fr, wanadoo.fr) after DATA: its content filter judged the message spam ("Mail rejeté")
  { reason: 'spamdetected', pattern: /\bmcspamsignature\b/ }, // Mimecast names the check that refused the message: its anti-spam signatures ("MCSpamSignature.sa…"), whatever "security policies" the sentence cites
  { reason: 'policyviolation', pattern: /host network not allowed/ }, // Mimecast 554: the sending network is outside what the recipient's permitted-senders policy allows
  { reason: 'norelaying', pattern: /email address is not verified\. the following identities failed the check/ }, // Amazon SES: it refuses to send for an identity the account has not verified
  { reason: 'rejected', pattern: /sending (?:to\/from|from|to) an address that (?:has been|is) blacklisted/ }, // an address (not an IP) on the receiver's list: the sender was refused
  { reason: 'rejected', pattern: /'send mail as' feature|send mail as' account/ },
  { reason: 'blocked', pattern: /(?:which|that) is an open relay|(?:listed as|detected as|known|suspected) (?:an )?open relay|open relay (?:detected|listed)/ }, // the receiver judged the sending host an open relay (open-relay lists): a block on that host, not a refusal to relay for it
  { reason: 'blocked', pattern: /\bip=[0-9a-f.:]+ - .*\(bl\)$/ }, // a refusal that names the connecting IP ("IP=192.0.2.1 - …") and tags it "(BL)": the IP is on the receiver's block list, whatever the vague sentence between says
  { reason: 'blocked', pattern: /\baup#cdrbl\b/ }, // Cox's error code CDRBL: the sending IP is on Cox's own block list (whatever the sentence around it says)
  { reason: 'toomanyconn', pattern: /\baup#in-1310\b/ }, // Spectrum/Charter code 1310: too many concurrent connections from the sending IP // Gmail / Google Groups: the "Send mail as" alias is not allowed to send as that address

  // ---- the mailbox is full (before the "user unknown" family: "mailbox unavailable: over quota")
  { reason: 'mailboxfull', pattern: /mail ?box (?:is )?(?:full|over ?(?:quota|limit|flow))|mail ?box (?:size|storage|space) (?:limit )?(?:exceeded|is exceeded|full)/ }, // "mailbox full", "mailbox size limit exceeded"
  { reason: 'mailboxfull', pattern: /over ?quota|quota (?:exceeded|exceed|full|violation)|exceeds? (?:his |her |the |their )?(?:mailbox |storage |disk )?quota/ }, // "user is over quota", "Quota exceeded"
  { reason: 'mailboxfull', pattern: /(?:mailbox|inbox|account|user) (?:has )?(?:exceeded|reached) (?:its|the|his|her|their)? ?(?:storage |size )?(?:quota|limit|capacity|size)/ }, // "mailbox has exceeded the limit"
  { reason: 'mailboxfull', pattern: /exceeded storage allocation|insufficient (?:storage|space) (?:in|for) (?:the )?(?:mailbox|user|recipient)/ }, // RFC 5321 552 text
  { reason: 'mailboxfull', pattern: /mail ?folder is (?:over (?:the |its )?(?:allowed )?quota|full)|over (?:the |its |their )?(?:allowed|permitted) (?:disk |storage )?quota|(?:mail ?box|inbox) (?:\S+ ){1,5}is (?:full|over (?:its |the )?quota)|maildir (?:over|full)|disk quota|out of (?:storage|mailbox) space|storage (?:quota|limit) (?:exceeded|reached)/ }, // qmail / Courier / IMAP stores
  { reason: 'mailboxfull', pattern: /(?:recipient'?s?|their) (?:mail ?box|inbox) (?:is )?(?:full|over)|number of messages in recipient'?s mailbox exceeded/ }, // KDDI "as their mailbox is full", BIGLOBE
  { reason: 'mailboxfull', pattern: /(?:inbox|mailbox) (?:is )?out of (?:storage|space)|(?:account|mailbox) is full|too much mail data|mailbox (?:exceeds|exceeded) (?:allowed|maximum) size/ }, // Gmail "inbox is out of storage space"
  { reason: 'mailboxfull', pattern: /user has (?:too many messages|exceeded)|full mailbox|mailbox_full|boite du destinataire pleine|容量(?:が|を)?(?:超過|オーバー|一杯|いっぱい)|メールボックスが(?:一杯|いっぱい|満杯)/ }, // French, Japanese carriers
  { reason: 'mailboxfull', pattern: /(?:account|mail ?box|inbox|user|person)(?:'s)? (?:account )?(?:is )?(?:exceeding|over) (?:its|the|his|her|their) (?:storage |disk |mailbox )?(?:quota|limit)|exceeding (?:its|the|his|her|their) (?:disk |storage )?quota/ }, // qmail-based ISPs "This person's account is exceeding their quota"
  { reason: 'mailboxfull', pattern: /mail ?box (?:size|storage|space|disk|quota) (?:limit )?(?:of \S+ )?(?:has been |was |is )?(?:exceeded|reached|full)|mail ?box (?:disk )?quota|exceeded (?:its|the) storage|storage limit|mail ?file (?:is full|has exceeded|quota)|insufficient space in (?:the )?(?:mail ?box|account)|not enough (?:space|room) in (?:the )?mail ?box|account is full/ }, // hMailServer "The mailbox size has been exceeded", Domino "mail file has exceeded its quota", CommuniGate "account is full"
  { reason: 'mailboxfull', pattern: /bo[iî]te (?:aux lettres |mail |de messagerie |de r[ée]ception )?(?:du destinataire |de votre correspondant )?(?:est )?(?:pleine|satur[ée]e)|quota (?:de (?:la )?bo[iî]te )?(?:d[ée]pass[ée]|atteint)|espace de stockage (?:insuffisant|satur[ée])/ }, // French: Orange "Boite du destinataire pleine", La Poste/Free "boîte aux lettres pleine", "quota dépassé"
  { reason: 'mailboxfull', pattern: /casella(?: di posta| postale| email| e-mail)?(?: del destinatario)? (?:[èe] |e' |risulta )?(?:piena|satura)|quota (?:disco )?(?:superata|esaurita)|spazio (?:su disco |disponibile )?(?:esaurito|insufficiente)/ }, // Italian: Libero/Virgilio "casella piena", "quota superata"
  { reason: 'mailboxfull', pattern: /(?:recipient|user|mail ?box|account|inbox)(?: \S+)? (?:has )?(?:exceeded|reached|is over) (?:its|the|his|her|their) (?:allowed |allocated )?(?:storage |mailbox |disk |mail )?(?:quota|limit|allocation|allowance)|mail ?box (?:is )?over (?:the |its )?(?:allowed|maximum|permitted) size/ }, // "Recipient … has exceeded their storage quota", "The user's mailbox is over the allowed size" (cPanel/Exim, Dovecot quota texts)
  { reason: 'mailboxfull', pattern: /postfach(?: des empf[äa]ngers)? (?:ist )?(?:voll|[üu]berf[üu]llt)|speicher(?:platz|kontingent)? (?:des postfachs )?(?:ist )?(?:voll|ersch[öo]pft|[üu]berschritten)|(?:quota|kontingent) [üu]berschritten|mailbox voll/ }, // German: GMX/WEB.DE, T-Online "Postfach voll", "Speicherplatz erschöpft"
  { reason: 'mailboxfull', pattern: /buz[oó]n(?: de correo)?(?: del destinatario)? (?:est[aá] )?(?:lleno|completo|excedido)|cuota (?:de (?:buz[oó]n|disco) )?(?:excedida|superada)|caixa (?:postal|de (?:correio|entrada|e-?mail))(?: do destinat[aá]rio)? (?:est[aá] )?(?:cheia|lotada)|(?:cota|quota) (?:excedida|ultrapassada|esgotada)/ }, // Spanish "buzón lleno", Portuguese (UOL, BOL, Terra, SAPO) "caixa postal cheia", "cota excedida"
  { reason: 'mailboxfull', pattern: /ящик(?: получателя| адресата)? (?:переполнен|заполнен)|переполнен[а-яё]* (?:почтов[а-яё]+ )?ящик|превышен[а-яё]* (?:квот|лимит|объ[её]м|размер)[а-яё]* (?:почтового )?ящика|недостаточно места в (?:почтовом )?ящике|квота (?:превышена|исчерпана)/ }, // Russian (Mail.Ru, Yandex, Rambler): "почтовый ящик переполнен", "превышен лимит ящика"
  { reason: 'mailboxfull', pattern: /(?:邮箱|信箱|郵箱|收件箱|邮件箱)(?:空间|容量|空間)?(?:已满|已滿|满了|不足)|(?:空间|容量|空間)(?:已满|已滿|不足)|超出(?:邮箱|信箱)?(?:容量|空间)|超過(?:信箱)?容量|(?:メールボックス|受信箱|ボックス)の?(?:容量|サイズ)(?:を|が)?(?:超え|超過|オーバー|一杯|いっぱい|不足)|容量不足/ }, // Chinese (QQ, 163/126, Sina, HiNet) "邮箱已满", "信箱已滿"; Japanese ISPs "メールボックスの容量を超えている"

  // ---- RFC 3463 / RFC 5321 descriptions, written out by some MTAs after "Recipient address rejected:"
  { reason: 'contenterror', pattern: /media error|duplicate header|message header (?:size )?exceed/ }, // X.6.0 "Other or undefined media error"; a header repeated that must appear once
  { reason: 'userunknown', pattern: /recipient address rejected: access denied/ }, // Microsoft 365 directory-based edge blocking: the recipient is not in the directory
  { reason: 'spamdetected', pattern: /spam classification|classified as spam|detected as spam|blacklisted url|\buribl\b|\bsurbl\b/ }, // stated spam verdicts, URL block lists (content, not the sending IP)
  { reason: 'notcompliantrfc', pattern: /multiple addresses in from|rfc ?(?:5322|2822|822|5321|2045)\b.{0,40}(?:complian|violat|conform|standard)|not (?:rfc|standards?)[- ]compliant/ }, // Gmail: "Messages with multiple addresses in From: header are not accepted"
  { reason: 'filtered', pattern: /(?:are|is) not accepting (?:e-?)?mail from/ }, // AOL "Mail Delivery Problem": the member's mail controls refuse this sender ("they are not accepting mail from …")
  { reason: 'notaccept', pattern: /system not accepting network messages|null mx|does not accept (?:any )?(?:e-?)?mail|(?:domain|host|server) (?:\S+ )?(?:does not|doesn't|will not|won't) (?:accept|receive) (?:any )?(?:e-?)?mail|not accepting (?:any )?(?:e-?)?mail/ }, // X.3.2, RFC 7505 null MX
  { reason: 'notaccept', pattern: /(?:no|couldn't find a|could not find a) (?:mail exchanger|mx(?: record| host)?s?) (?:or ip address|found|record|for)|mx or srv record indicated no smtp service|no mx record found/ }, // qmail "couldn't find a mail exchanger or IP address"
  { reason: 'mailererror', pattern: /mailer error|procmail|command output|operating system error|pipe to \||(?:pipe|program|delivery program|local delivery) (?:\S+ )?(?:error|failed|died|crashed)|command died with status|unknown mailer error|x-unix;|exit (?:status|code) \d+/ }, // a local delivery program failed
  { reason: 'systemerror', pattern: /(?:encountered an|an internal) error while (?:being )?process|processing error/ }, // USA.NET-style notices: "returned because it encountered an error while being processed"
  { reason: 'systemerror', pattern: /internal (?:server |system )?error|system (?:error|failure|problem)|local (?:error|problem) in processing|server configuration error|misconfigured|ldap|directory server/ }, // X.3.x, 451 "Local error in processing", X.4.3
  { reason: 'systemerror', pattern: /(?:server|system|host|mta) (?:does not|doesn't|did not) (?:support|offer|advertise) (?:starttls|tls|ssl|smtputf8|8bitmime|dsn|requiretls)|(?:starttls|tls) (?:is )?not (?:supported|offered|advertised|available)/ }, // RFC 3463 X.3.3 "System not capable of selected features": the receiver lacks what the sender requires (Gmail enforcing TLS: "Remote server does not support TLS")
  { reason: 'securityerror', pattern: /delivery not authorized|not permitted to relay (?:through this server )?without authentication|authentication required for relay|turn on smtp authentication|unauthenticated senders? not allowed/ }, // X.7.1 wording; relaying that needs AUTH
  { reason: 'onhold', pattern: /\bon hold\b/ }, // the receiving system parked the message
  { reason: 'policyviolation', pattern: /polic(?:y|ies) (?:reasons|violation)|violat(?:es?|ed|ion|ing) .{0,40}polic|not accepted for policy|against (?:our|the) polic|policy (?:restriction|rejection)|denied by policy|protocol violation|content presents a potential security issue|header error/ }, // Yahoo 5.7.9 "not accepted for policy reasons", Gmail 552-5.7.0

  // ---- the account exists but is disabled
  { reason: 'suspend', pattern: /(?:account|mail ?box|user|address|recipient)(?: \S+)? (?:has been |is |was )?(?:currently |temporar(?:il)?y )?(?:disabled|suspended|deactivated|inactive|locked|frozen|expired|blocked)\b/ }, // "account is disabled", "mailbox is inactive", "recipient account is blocked"
  { reason: 'suspend', pattern: /(?:disabled|suspended|inactive|deactivated) (?:account|mail ?box|user|recipient)|account (?:not active|unavailable|temporarily (?:unavailable|disabled))/ }, // "inactive mailbox"
  { reason: 'suspend', pattern: /account that you tried to reach is (?:disabled|inactive)|boite du destinataire archivee|user account disabled|is no longer active|this account has been (?:closed|terminated)/ }, // Orange "archivée", X.7.13 wording

  // ---- the recipient moved
  { reason: 'hasmoved', pattern: /has moved|user not local; please try|address (?:has )?changed|no longer (?:valid|in use|available)[^.]{0,80}new address|new address is/ }, // RFC 5321 551 "User not local; please try <forward-path>"

  // ---- relaying was refused
  { reason: 'norelaying', pattern: /relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed)|prohibited|refused)|unable to relay|(?:we do not|cannot|can't|will not) relay|not permitted to relay|relay not authorized|no relaying|not configured to relay/ }, // "554 5.7.1 Relay access denied"
  { reason: 'norelaying', pattern: /insecure mail relay/ }, // old Sendmail-era rule sets: "550 Insecure Mail Relay" refuses to relay (the word "insecure" is not a TLS requirement here)
  { reason: 'norelaying', pattern: /(?:domain|host)(?: \S+)? is(?:n't| not) in my list of allowed rcpthosts|not (?:a )?(?:gateway|local domain)|not handled by this server|does not relay/ }, // qmail rcpthosts, Exchange

  // ---- sender authentication (SPF, DKIM, DMARC, ARC)
  { reason: 'authfailure', pattern: /\bdmarc\b|\bspf\b|sender policy framework|\bdkim\b|domainkeys|\barc validation|sending domain does not pass/ }, // 5.7.26 Gmail, 5.7.509 Outlook, SPF hard fails
  { reason: 'authfailure', pattern: /(?:sender|sending domain|from domain) (?:is not |was not |could not be |not )?authenticated|authentication checks? (?:failed|did not pass)|fails? (?:to pass )?(?:sender )?authentication|does not have authentication information/ }, // "did not pass authentication"

  // ---- reverse DNS / host name of the sending system
  { reason: 'requireptr', pattern: /\bptr\b|reverse (?:dns|lookup|hostname|address|resolution|mapping)|\brdns\b|ip name (?:lookup|possibly forged)|cannot find your hostname|does not resolve to|no (?:reverse|rdns)|hostname (?:does not|doesn't) (?:match|resolve)|client host name (?:is )?(?:unknown|mismatch)|mismatches client ip/ }, // 5.7.25, "Client host rejected: cannot find your hostname"
  { reason: 'requireptr', pattern: /unresolvable (?:address|hostname)|(?:helo|ehlo|client) (?:host ?name )?(?:is )?(?:invalid|not (?:found|resolvable))|reject_unknown_(?:client|reverse)|unverifi?[iy]able sending ips?/ }, // Postfix unknown_client; "service permits 2 unverifiable sending IPs"

  // ---- content that breaks the RFCs
  { reason: 'notcompliantrfc', pattern: /rfc ?(?:5322|2822|822|5321|2045)\b.{0,40}(?:complian|violat|conform|standard)|not (?:rfc|standards?)[- ]compliant|multiple (?:from|to|subject|date|message-id) headers|no (?:resent-)?(?:from|date|message-id|resent-from) (?:field|header) given|required (?:header|field) (?:is )?missing|(?:header|headers) (?:are |is )?(?:malformed|missing)|missing (?:date|from|message-id) header/ }, // Gmail "not RFC 5322 compliant"

  // ---- the sender was refused
  { reason: 'rejected', pattern: /sender (?:address |domain )?(?:\S+ )?(?:rejected|refused|denied|not (?:allowed|accepted|authorized|permitted)|unknown|invalid|verify failed|verification failed)|(?:invalid|bad|unknown|unverified|unroutable) sender|sender (?:is )?blocked|mail from .{0,60}(?:rejected|refused|not allowed)|domain of sender address .{0,60}(?:does not exist|not found)|return path .{0,30}(?:invalid|rejected)|sender was rejected/ }, // "Sender address rejected", 5.1.7 / 5.1.8
  { reason: 'rejected', pattern: /purported responsible address|provide a valid from|from: domain is invalid|groups\.google\.com\/support|\bgoogle groups\b/ }, // Sender ID PRA; Google Groups refusing a post (no such group, or no permission to post)
  { reason: 'rejected', pattern: /(?:envelope|mail) from (?:address )?(?:rejected|refused|invalid)|from: address (?:rejected|invalid)|sender (?:address )?(?:does not|doesn't) exist|(?:not|aren't) (?:allowed|authorized|permitted) to (?:send|post)|permission to post|not a member of|投稿する権限/ }, // mailing lists, Google Groups ("may not have permission to post")

  // ---- the sending IP / domain is on a block list, or has a poor reputation
  { reason: 'badreputation', pattern: /(?:poor|bad|low|negative) (?:ip |sender |domain )?reputation|reputation (?:of|is too low)|rate limited due to ip reputation|sender score|unexpected volume or user complaints/ }, // Outlook 4.7.650, Gmail "low reputation"
  { reason: 'hostunknown', pattern: /account or domain may not exist/ }, // Exim relays: more precise than its "may be blacklisted" alternative
  { reason: 'blocked', pattern: /\brbl\b|\bdnsbl\b|black ?list|block ?list|deny ?list|spamhaus|spamcop|sorbs|barracudacentral|abuseat|mailspike|uceprotect|spam ?rats|(?:listed|found) (?:in|on|at) (?:the )?(?:\S+ )?(?:rbl|dnsbl|list|zen)/ }, // DNS block lists
  { reason: 'blocked', pattern: /(?:ip|host|client|connection|network|mta|server|you|your (?:ip|host|server|domain)) (?:\S+ )?(?:is |are |has been |have been )?(?:temporarily )?(?:blocked|banned|blacklisted|denied|not allowed|refused|rejected)(?: for| due| because|\.|,|:|$| by| from)/ }, // "your IP is blocked", "client host rejected"
  { reason: 'blocked', pattern: /connection(?: \S+)? (?:denied|refused|rejected)(?: for| from| to|\.|$)|access denied for (?:ip|host|client)|(?:client|host|ip) (?:\S+ )?rejected|banned sending ip|poor ip|dynamic (?:ip|address|pool)|dial-?up|residential (?:ip|address)|generic (?:reverse|rdns)|smtp server of your isp|invalid ip for sending|my name was rejected|may not be mail exchanger|not accepting connections/ }, // Outlook S3150 "banned sending IP", dynamic/dialup pools, qmail HELO refused
  { reason: 'blocked', pattern: /too many (?:bad|invalid|unknown) (?:recipients|commands)|unusual (?:rate|amount) of unsolicited|blocked using|has been blocked|is blocked|messages from \S+ weren't sent/ }, // Gmail "unusual rate of unsolicited mail", Outlook SC-004

  // ---- spam, viruses
  { reason: 'virusdetected', pattern: /virus|malware|infected|trojan|(?<![\w.+-])worms?(?![\w@.-])|malicious (?:content|attachment|payload)/ }, // content scanners
  { reason: 'spamdetected', pattern: /\bspam\b|spamm|junk mail|\bub?ce\b|unsolicited|bulk (?:e-?mail|mail)|content rejected|scored as|message (?:looks|seems|appears) (?:like|to be)|suspicious|phishing/ }, // "message looks like spam", "content rejected, UBE"
  { reason: 'policyviolation', pattern: /prohibited (?:attachment|file|content)|attachment (?:type )?(?:is )?(?:not allowed|prohibited|blocked)/ }, // attachment policies

  // ---- the recipient's domain
  { reason: 'networkerror', pattern: /malformed or unexpected name server reply|host not found, try again|temporary (?:dns|lookup) failure|(?:name server|nameserver) (?:\S+ )?(?:failure|timeout|lookup failed|query failed)|dns (?:timeout|query failed|servfail)|host name lookup failure/ }, // DNS trouble, not a missing domain (Postfix TRY_AGAIN)
  { reason: 'hostunknown', ifTemporary: 'networkerror', pattern: /host (?:\S+ )?(?:or domain name )?(?:not found|unknown)|unknown (?:host|domain)|domain (?:name )?(?:not found|does not exist|doesn't exist|is not known|not known|unknown|invalid|is not reachable)|no such (?:domain|host)|name service error|nxdomain|unrouteable (?:mail )?(?:domain|address)|no (?:mx|dns|a) (?:or a )?(?:records?|entry) (?:for|found)|invalid domain|domain (?:could not|cannot) be (?:found|resolved)|unroutable domain|non-existent (?:host|domain)|(?<![@\w.-])[a-z0-9-]+(?:\.[a-z0-9-]+)+ does not exist/ }, // Postfix "Host or domain name not found", Exim "Unrouteable address"; "example.jp does not exist" (a host name, not the domain of an address: "taro@example.jp does not exist" is about the mailbox)
  { reason: 'hostunknown', ifTemporary: 'networkerror', pattern: /recipient domain (?:\S+ )?(?:not found|does not exist|unknown)|the domain (?:\S+ )?(?:you|your) (?:\S+ )?(?:does not|doesn't) exist|couldn't find the domain|domain isn't found|domain name lookup failed/ }, // Gmail "The domain … couldn't be found"
  { reason: 'hostunknown', ifTemporary: 'networkerror', pattern: /couldn'?t find any host (?:named|by that name)|no (?:host|domain) (?:named|by that name)|dns lookup failed:? the domain/ }, // qmail "Sorry, I couldn't find any host named …"
  { reason: 'hostunknown', ifTemporary: 'networkerror', pattern: /name or service not known|no address associated with (?:host ?name|name)|bad destination system address/ }, // glibc getaddrinfo EAI_NONAME / EAI_NODATA texts quoted by MTAs; RFC 3463 X.1.2 description
  { reason: 'hostunknown', ifTemporary: 'networkerror', pattern: /domaine(?: \S+)? (?:n'existe pas|inexistant|introuvable|inconnu)|dominio(?: \S+)? (?:inesistente|non esiste|sconosciuto|no existe|desconocido|inexistente)|dom[ií]nio(?: \S+)? (?:n[aã]o existe|inexistente|desconhecido)|domain(?: \S+)? (?:existiert nicht|ist unbekannt|nicht gefunden)|unbekannte domain/ }, // French "le domaine n'existe pas", Italian/Spanish "dominio inesistente / no existe", Portuguese "domínio inexistente", German "Domain existiert nicht"
  { reason: 'hostunknown', ifTemporary: 'networkerror', pattern: /домен[а]?(?: \S+)? (?:не (?:найден|существует)|неизвестен)|несуществующ[а-яё]+ домен|域名(?:不存在|无法解析|無法解析|未找到)|ドメイン名?が(?:存在しません|見つかりません)|存在しないドメイン/ }, // Russian "домен не найден", Chinese "域名不存在", Japanese "ドメインが存在しません"

  { reason: 'networkerror', pattern: /\bdns error\b|had no relevant answers/ }, // Gmail "DNS Error" without NXDOMAIN: the lookup itself failed

  // ---- the recipient does not exist
  { reason: 'filtered', pattern: /(?:^|\s): user unknown/ }, // au/KDDI answer "550 : User unknown", naming no address, when the reception filter refuses after DATA (an unknown address is "550 <addr>: User unknown" at RCPT)
  { reason: 'userunknown', pattern: /(?:user|account) (?:\S+ )?doesn't have an? (?:\S+ )?account|(?:does not|doesn't) have an? (?:\S+ )?account/ }, // Yahoo "This user doesn't have a yahoo.com account"
  { reason: 'userunknown', weak: true, pattern: /\b5\.1\.0 - unknown address error\b/ }, // Amazon SES titles a relayed reply with its own label for the status class ("5.1.0 - Unknown address error"): the remote reply after it says what happened
  { reason: 'userunknown', afterData: 'filtered', aboutRecipient: true, pattern: /(?:user|recipient|mail ?box|address|account|addressee|alias|local[- ]part|e-?mail address|destination|userid)(?: \S+)? (?:is )?(?:not (?:found|known|listed|recogni[sz]ed|valid|exist)|does ?n[o']t exist|non-?existent|no longer exists?|not present)/ }, // "mailbox not found"
  { reason: 'userunknown', afterData: 'filtered', pattern: /(?:user|recipient|mail ?box|address|account|addressee|alias|local[- ]part|e-?mail address|destination|userid)(?: \S+)? (?:is )?unknown/ }, // "user unknown"
  { reason: 'userunknown', afterData: 'filtered', aboutRecipient: true, pattern: /(?:user|recipient|mail ?box|account|addressee|address)(?: (?!(?:domain|host|server|sender|system)\b)[^\s.;:,]+){1,5} (?:(?:does|did) not|doesn't|didn't) exist|(?:user|recipient|mail ?box|account|addressee|address)(?: (?!(?:domain|host|server|sender|system)\b)[^\s.;:,]+){0,5} (?:was not|wasn't|could not|couldn't|can ?not|can't) (?:be )?found/ }, // "The user you are trying to reach does not exist", "User taro was not found", "the mailbox could not be found"
  { reason: 'userunknown', pattern: /(?:^|[\s.])invalid recipient\b/ }, // "Invalid recipient" judges the address itself, at whatever stage: filters hide behind the terse "user unknown", not this
  { reason: 'userunknown', afterData: 'filtered', aboutRecipient: true, pattern: /(?:invalid|bad|non-?existent|nonexistent|no such|illegal|no valid) (?:local |final delivery )?(?:users?|recipients?|mail ?box|address|account|addressee|alias|local[- ]part|e-?mail|userid)/ }, // "no such mailbox", "invalid recipient"
  { reason: 'userunknown', afterData: 'filtered', pattern: /unknown (?:local |final delivery )?(?:users?|recipients?|mail ?box|address|account|addressee|alias|local[- ]part|e-?mail|userid)/ }, // "unknown user"
  { reason: 'userunknown', pattern: /no mailbox here by that name|not listed in (?:the )?(?:public name & address book|domino directory|address book)|recip(?:ient)?notfound|recipient (?:address )?rejected: (?:user unknown|undeliverable|unknown|not found)/ }, // qmail chkuser, Domino, Exchange RESOLVER.ADR.RecipNotFound, Postfix
  { reason: 'userunknown', pattern: /email account that you tried to reach does not exist|address couldn't be found|(?:is not|isn't) a (?:valid|known|registered) (?:\S+ )?(?:user|recipient|mailbox)|(?:no|not a) (?:valid )?(?:user|recipient|mailbox) (?:here|by that name|on this (?:server|system))|user (?:\S+ )?doesn't exist|check if (?:the )?address is correct/ }, // Gmail, generic
  { reason: 'userunknown', pattern: /(?:ユーザー?|宛先|アドレス).{0,60}(?:見つかりません|存在しません|不明)|存在しない(?:ユーザ|アドレス|宛先)|ディレクトリ(?:の(?:リスト|一覧))?に(?:ありません|見つかりません)/ }, // Japanese: "user … not found", Domino/Notes "not in the directory"
  { reason: 'userunknown', pattern: /(?:is not|isn't) a valid (?:\S+ )?(?:account|address|e-?mail address)|(?:account|address|mailbox) (?:\S+ )?(?:does not|doesn't) exist|does not exist (?:in|at) the (?:\S+ )?(?:directory|organization)|recipient name is not recognized|no matches to nameserver query|does not have a final (?:e-?mail )?delivery point|did not match (?:an?|any) (?:\S+ )?(?:e-?mail )?address|address is (?:wrong|incorrect|no longer (?:valid|in use|active))|unknown or illegal alias|wasn'?t found at|not found by smtp address lookup|no such (?:person|recipient|address)/ }, // Exchange 5.5 "The recipient name is not recognized", Exchange 2003 "does not exist at the organization", Office 365 "wasn't found at", Sun Messaging "unknown or illegal alias", ph/phquery directories
  { reason: 'userunknown', pattern: /(?:utilisateur|destinataire|adresse(?: [ée]lectronique| de messagerie| e-?mail)?|compte|bo[iî]te aux lettres)(?: \S+)? (?:est )?(?:inconnue?|inexistante?|introuvable|invalide|n'existe (?:pas|plus))|l'adresse .{0,60}n'existe pas|non recens[ée]e? dans l'annuaire/ }, // French: "Utilisateur inconnu", "adresse introuvable", "L'adresse … n'existe pas" (Orange, La Poste, Exchange in French)
  { reason: 'userunknown', pattern: /(?:utente|destinatario|indirizzo(?: email| e-mail| di posta)?|account)(?: \S+)? (?:[èe] |e' |risulta )?(?:inesistente|sconosciut[oa]|non (?:esiste|valid[oa]|trovat[oa]|presente))/ }, // Italian: "Utente inesistente", "indirizzo non valido" (Libero, Aruba, Tiscali)
  { reason: 'userunknown', pattern: /(?:empf[äa]nger|benutzer|nutzer|adresse|e-mail-adresse|postfach|konto)(?: \S+)? (?:ist )?(?:unbekannt|existiert nicht|nicht (?:gefunden|vorhanden|bekannt))|e-mail-adresse wurde .{0,60}nicht gefunden|unbekannte[rs]? (?:empf[äa]nger|benutzer|adresse)/ }, // German: "Empfänger unbekannt", "Benutzer existiert nicht", Exchange "Die E-Mail-Adresse wurde … nicht gefunden"
  { reason: 'userunknown', pattern: /(?:usuario|destinatario|cuenta(?: de correo(?: electr[oó]nico)?)?|direcci[oó]n(?: de correo(?: electr[oó]nico)?)?)(?: \S+)? (?:es )?(?:desconocid[oa]|inexistente|no existe|no v[aá]lid[oa]|no encontrad[oa])|(?:usu[aá]rio|utilizador|destinat[aá]rio|conta|endere[cç]o(?: de (?:e-?mail|destino|correio))?)(?: \S+)? (?:[eé] )?(?:inexistente|desconhecid[oa]|n[aã]o existe|inv[aá]lid[oa]|n[aã]o encontrad[oa])/ }, // Spanish "usuario desconocido", "la cuenta … no existe"; Portuguese "usuário inexistente", "utilizador desconhecido"
  { reason: 'userunknown', pattern: /(?:пользовател[ьяюе]|получател[ьяюе]|адрес[ау]?|ящик[ау]?|адресат[ау]?|аккаунт[ау]?)(?: \S+)? (?:не (?:существует|найден[ао]?|зарегистрирован)|неизвестен)|(?:такого|несуществующ[а-яё]+) (?:пользовател[ья]|адрес[ау]?|ящик[ау]?|получател[ья])|нет такого (?:пользователя|ящика|адреса|получателя)|неизвестн[а-яё]+ (?:пользовател|адрес|получател)/ }, // Russian (Mail.Ru, Yandex, Rambler): "пользователь не найден", "такого пользователя не существует"
  { reason: 'userunknown', pattern: /(?:用户|用戶|收件人|收件者|使用者|帐号|账号|帳號|账户|帳戶|邮箱|信箱|郵箱|地址)名?(?:不存在|无效|無效|未找到|找不到)|无此(?:用户|账号|帐号)|查无此(?:人|用户)/ }, // Chinese (QQ, 163/126, Sina, HiNet): "用户不存在", "收件者不存在", "查无此人"
  { reason: 'userunknown', pattern: /bad destination mailbox address|destination mailbox address (?:syntax|ambiguous)|bad destination mailbox address syntax/ }, // RFC 3463 X.1.1 / X.1.3 / X.1.4 descriptions written out as the reply text
  { reason: 'userunknown', pattern: /recipient (?:address )?verif(?:y|ication) failed|unverified (?:recipient )?address|recipient callout verification failed|could not verify recipient/ }, // Postfix reject_unverified_recipient "Recipient address rejected: unverified address", Exim "recipient verify failed" (the downstream refused the address)
  { reason: 'userunknown', pattern: /mail ?box (?:is )?not available|recipient (?:address )?(?:is )?invalid|invalid recipient address|(?:user|recipient) account (?:is )?unavailable/ }, // RFC 5321 550 "mailbox unavailable" in other words; "Recipient address is invalid"

  // ---- the recipient's own filters
  { reason: 'filtered', pattern: /(?:domain|recipient|user|address|content|mail) ?filter|\bfiltered\b|(?:rejected|refused|denied) by (?:the )?recipient(?!'?s? domain| domain)|recipient (?:has )?(?:rejected|refused|blocked)|user (?:has )?(?:rejected|refused|blocked)|due to (?:the )?(?:recipient|user)'?s? (?:settings|preferences|filter)|受信拒否|拒否設定/ }, // carrier domain filters ("rejected by domain filter")

  // ---- too many, too fast
  { reason: 'speeding', pattern: /too many recipients (?:this|per|in the last) (?:hour|day|minute)|sent (?:to )?too many (?:recipients|messages)/ }, // "has sent to too many recipients this hour": a rate, not one message
  { reason: 'toomanyconn', pattern: /too many (?:connections|concurrent|simultaneous|sessions|open connections|recipients)|connection (?:rate )?limit|(?:maximum|max) (?:number of )?connections|exceeded the (?:maximum )?number of connections|(?:ip|connection) frequency limited/ }, // 421 too many connections, Tencent "frequency limited"
  { reason: 'speeding', pattern: /rate ?limit|too many (?:messages|mails|emails)|sending (?:rate|limit|quota)|throttl|slow down|receiving mail (?:at a rate|too quickly)|too (?:fast|frequent)|per (?:hour|minute|day) limit|message rate/ }, // Gmail 4.2.1 "receiving mail at a rate", 5.7.28 floods

  // ---- content and syntax
  { reason: 'contenterror', pattern: /content (?:error|not allowed)|(?:invalid|bad|unsupported|illegal) (?:mime|content|encoding|character|attachment|header)|(?:mime|message) (?:structure|format) (?:error|invalid)|bare (?:lf|cr|linefeed)|8-?bit (?:data|content|characters)|line (?:too long|length exceeded)|message header (?:size )?exceed/ }, // 5.6.x media errors
  { reason: 'syntaxerror', pattern: /syntax error|command (?:not )?(?:unrecognized|recognized|not implemented)|unrecognized command|bad sequence of commands|improper sequence|malformed address|(?:invalid|bad) command|parameter(?:s)? not (?:recognized|implemented)|command parameter/ }, // 500-504 replies

  // ---- security requirements
  { reason: 'securityerror', pattern: /(?:authentication|auth) (?:is )?(?:required|needed|failed|failure|credentials invalid)|must (?:first )?(?:authenticate|issue a starttls)|(?:starttls|tls|encryption|ssl) (?:is )?(?:required|needed|mandatory)|certificate (?:verify|verification|validation|error|expired|invalid)|insecure|not permitted (?:without|unless)|smtp auth|authenticated (?:users|senders) only/ }, // 530 5.7.0, TLS/AUTH requirements

  // ---- network trouble on the way (before "gave up": qmail says both)
  { reason: 'networkerror', pattern: /message (?:is )?looping|looping (?:message|mail)|loop detected|mail for \S+ loops back/ }, // LISTSERV/LSMTP "554 Message looping (received 6 times)", qmail "This message is looping: it already has my Delivered-To line"
  { reason: 'networkerror', pattern: /(?:mail|routing) loop|hop count exceeded|too many hops|loops back to myself|(?:unable|wasn't able|not able) to establish an smtp connection|network error|network (?:is )?unreachable|no route to host|lost connection (?:with|to)/ }, // X.4.6 loops, qmail "wasn't able to establish an SMTP connection"

  // ---- delivery gave up
  { reason: 'expired', pattern: /(?:has )?not (?:been )?(?:collected|retrieved|picked up|downloaded) (?:for|after|within|in) \d+ days/ }, // POP mailstores (Demon Internet) returning mail left uncollected: it expired in the store
  { reason: 'expired', pattern: /(?:delivery|retry) (?:time|period|timeout)(?: has)? (?:expired|exceeded|not reached)|retry timeout exceeded|message expired|envelope expired|(?:has|have) been (?:queued|in (?:the )?queue) (?:for )?(?:too long|\d+)|could not be delivered (?:within|for|in) \d+|could not send message for|no (?:further|more) (?:delivery )?attempts|giving up on delivery|after multiple retries|(?:message|mail) (?:was )?not delivered (?:within|for|in) \d+|timed out in queue|expired after|queue (?:life ?time|timeout)|time limit exceeded|undelivered for \d+|still undelivered after|delivery failed \d+ attempts|failing for a long time|in the queue too long|could not deliver for the last \d+|aborted after \d|has been delayed|not yet been delivered|will be retried|warning message only/ }, // X.4.7, queue lifetimes ("message still undelivered after 4 hours")

  // ---- network trouble on the way
  { reason: 'networkerror', whenFinal: 'expired', pattern: /connection (?:timed out|refused|reset|closed|lost|dropped)|could not connect|unable to connect|host (?:is )?(?:unreachable|not reachable)|timed out|timeout (?:while|waiting|connecting|reading)|couldn't connect|failed to connect|socket error|did not accept our requests to connect/ }, // connections that kept failing until the queue gave up

  // ---- the receiving system itself
  { reason: 'systemfull', pattern: /(?:disk|file ?system|storage|spool|system) (?:is )?full|insufficient (?:system )?(?:storage|disk space|resources)|no space left|out of disk|not enough (?:disk )?space/ }, // X.3.1, 452 "Insufficient system storage"
  { reason: 'systemerror', weak: true, pattern: /system (?:not accepting|unavailable|busy)|server (?:error|misconfiguration|failure)|configuration error|transaction failed|service (?:is )?(?:currently )?(?:unavailable|refused)|temporar(?:il)?y unavailable|resources temporarily unavailable|queue file write error|could not load/ }, // 554 "Transaction failed", 421 "Service not available": the receiving system itself is named as failing
  { reason: 'onhold', weak: true, pattern: /temporar(?:il)?y (?:failure|problem|deferred|rejected)|try again later/ }, // "450 Temporary failure": it failed, for now, and nothing says what (Sisimai's undecided `onhold`)

  // ---- weak signals for a missing recipient, after everything more precise
  { reason: 'securityerror', weak: true, pattern: /access denied/ }, // generic X.7.1 wording: the status and the SMTP stage say more
  { reason: 'userunknown', weak: true, aboutRecipient: true, pattern: /address rejected|unknown recipient|^\S+@\S+ rejected\.?$/ }, // "Recipient address rejected.": the address was refused, with nothing more precise said
  { reason: 'userunknown', weak: true, pattern: /mailbox unavailable|user not local|not our customer|no account by that name|no such person|(?:delivery|recipient) (?:address )?(?:is )?not allowed|user doesn't have a|requested action not taken: mailbox/ }, // RFC 5321 550 "mailbox unavailable"
];

/** A status-code row: an enhanced status (RFC 3463 `class.subject.detail`) and its reason. */
export interface StatusRow {
  readonly status: string;
  readonly reason: BounceReason;
  /** As for phrases: what the status means when it ends delivery for good. */
  readonly whenFinal?: BounceReason;
}

/**
 * Enhanced status codes → reason. Looked up with the class replaced by `X`
 * (`5.1.1` → `X.1.1`), exact detail first. Only codes whose meaning decides a reason are
 * listed; `X.0.0`, `X.1.0`, `X.2.0`, `X.5.0`, `X.7.0`, `X.7.1` say too little and are left to the text.
 */
export const STATUS_REASONS: readonly StatusRow[] = [
  { status: 'X.1.1', reason: 'userunknown' }, // Bad destination mailbox address
  { status: 'X.1.2', reason: 'hostunknown' }, // Bad destination system address
  { status: 'X.1.3', reason: 'userunknown' }, // Bad destination mailbox address syntax
  { status: 'X.1.4', reason: 'userunknown' }, // Destination mailbox address ambiguous
  { status: 'X.1.5', reason: 'delivered' }, // Destination mailbox address valid
  { status: 'X.1.6', reason: 'hasmoved' }, // Destination mailbox has moved, no forwarding address
  { status: 'X.1.7', reason: 'rejected' }, // Bad sender's mailbox address syntax
  { status: 'X.1.8', reason: 'rejected' }, // Bad sender's system address
  { status: 'X.1.9', reason: 'delivered' }, // Message relayed to non-compliant mailer (RFC 3886)
  { status: 'X.1.10', reason: 'userunknown' }, // Recipient address has null MX (RFC 7505); Microsoft also sends it for unknown recipients
  { status: 'X.2.1', reason: 'suspend' }, // Mailbox disabled, not accepting messages
  { status: 'X.2.2', reason: 'mailboxfull' }, // Mailbox full
  { status: 'X.2.3', reason: 'exceedlimit' }, // Message length exceeds administrative limit
  { status: 'X.2.4', reason: 'systemerror' }, // Mailing list expansion problem
  { status: 'X.3.0', reason: 'systemerror' }, // Other or undefined mail system status
  { status: 'X.3.1', reason: 'systemfull' }, // Mail system full
  { status: 'X.3.2', reason: 'notaccept' }, // System not accepting network messages
  { status: 'X.3.3', reason: 'systemerror' }, // System not capable of selected features
  { status: 'X.3.4', reason: 'mesgtoobig' }, // Message too big for system
  { status: 'X.3.5', reason: 'systemerror' }, // System incorrectly configured
  { status: 'X.3.6', reason: 'systemerror' }, // Requested priority was changed (RFC 6710)
  { status: 'X.4.0', reason: 'networkerror', whenFinal: 'expired' }, // Other or undefined network or routing status
  { status: 'X.4.1', reason: 'networkerror', whenFinal: 'expired' }, // No answer from host
  { status: 'X.4.2', reason: 'networkerror', whenFinal: 'expired' }, // Bad connection
  { status: 'X.4.3', reason: 'systemerror' }, // Directory server failure
  { status: 'X.4.4', reason: 'hostunknown' }, // Unable to route
  { status: 'X.4.5', reason: 'systemfull' }, // Mail system congestion
  { status: 'X.4.6', reason: 'networkerror' }, // Routing loop detected
  { status: 'X.4.7', reason: 'expired' }, // Delivery time expired
  { status: 'X.5.1', reason: 'syntaxerror' }, // Invalid command
  { status: 'X.5.2', reason: 'syntaxerror' }, // Syntax error
  { status: 'X.5.3', reason: 'syntaxerror' }, // Too many recipients
  { status: 'X.5.4', reason: 'syntaxerror' }, // Invalid command arguments
  { status: 'X.5.5', reason: 'syntaxerror' }, // Wrong protocol version
  { status: 'X.5.6', reason: 'syntaxerror' }, // Authentication exchange line is too long
  { status: 'X.6.0', reason: 'contenterror' }, // Other or undefined media error
  { status: 'X.6.1', reason: 'contenterror' }, // Media not supported
  { status: 'X.6.2', reason: 'contenterror' }, // Conversion required and prohibited
  { status: 'X.6.3', reason: 'contenterror' }, // Conversion required but not supported
  { status: 'X.6.4', reason: 'contenterror' }, // Conversion with loss performed
  { status: 'X.6.5', reason: 'contenterror' }, // Conversion failed
  { status: 'X.6.6', reason: 'contenterror' }, // Message content not available
  { status: 'X.6.7', reason: 'contenterror' }, // Non-ASCII addresses not permitted for that sender/recipient
  { status: 'X.6.8', reason: 'contenterror' }, // UTF-8 string reply is required, but not permitted by the client
  { status: 'X.6.9', reason: 'contenterror' }, // UTF-8 header message cannot be transferred
  { status: 'X.6.10', reason: 'contenterror' }, // (registered as a duplicate of X.6.8)
  { status: 'X.7.0', reason: 'securityerror' }, // Other or undefined security status (only when no phrase says more)
  { status: 'X.7.1', reason: 'securityerror' }, // Delivery not authorized, message refused (only when no phrase says more)
  { status: 'X.7.2', reason: 'securityerror' }, // Mailing list expansion prohibited
  { status: 'X.7.3', reason: 'securityerror' }, // Security conversion required but not possible
  { status: 'X.7.4', reason: 'securityerror' }, // Security features not supported
  { status: 'X.7.5', reason: 'securityerror' }, // Cryptographic failure
  { status: 'X.7.6', reason: 'securityerror' }, // Cryptographic algorithm not supported
  { status: 'X.7.7', reason: 'securityerror' }, // Message integrity failure
  { status: 'X.7.8', reason: 'securityerror' }, // Authentication credentials invalid
  { status: 'X.7.9', reason: 'securityerror' }, // Authentication mechanism is too weak
  { status: 'X.7.10', reason: 'securityerror' }, // Encryption needed
  { status: 'X.7.11', reason: 'securityerror' }, // Encryption required for requested authentication mechanism
  { status: 'X.7.12', reason: 'securityerror' }, // A password transition is needed
  { status: 'X.7.13', reason: 'suspend' }, // User account disabled
  { status: 'X.7.14', reason: 'securityerror' }, // Trust relationship required
  { status: 'X.7.15', reason: 'systemerror' }, // Priority level is too low (RFC 6710)
  { status: 'X.7.16', reason: 'mesgtoobig' }, // Message is too big for the specified priority
  { status: 'X.7.17', reason: 'hasmoved' }, // Mailbox owner has changed (RFC 7293)
  { status: 'X.7.18', reason: 'hasmoved' }, // Domain owner has changed
  { status: 'X.7.19', reason: 'securityerror' }, // RRVS test cannot be completed
  { status: 'X.7.20', reason: 'authfailure' }, // No passing DKIM signature found (RFC 7372)
  { status: 'X.7.21', reason: 'authfailure' }, // No acceptable DKIM signature found
  { status: 'X.7.22', reason: 'authfailure' }, // No valid author-matched DKIM signature found
  { status: 'X.7.23', reason: 'authfailure' }, // SPF validation failed
  { status: 'X.7.24', reason: 'authfailure' }, // SPF validation error
  { status: 'X.7.25', reason: 'requireptr' }, // Reverse DNS validation failed
  { status: 'X.7.26', reason: 'authfailure' }, // Multiple authentication checks failed
  { status: 'X.7.27', reason: 'notaccept' }, // Sender address has null MX (RFC 7505)
  { status: 'X.7.28', reason: 'spamdetected' }, // Mail flood detected (RFC 8689 registry)
  { status: 'X.7.29', reason: 'authfailure' }, // ARC validation failure (RFC 8617)
  { status: 'X.7.30', reason: 'securityerror' }, // REQUIRETLS support required (RFC 8689)
  // Microsoft 365 extended details, widely seen and documented by Microsoft:
  { status: 'X.4.312', reason: 'networkerror' }, // DNS query failed
  { status: 'X.4.316', reason: 'expired' }, // Message expired, connection refused by the remote host
  { status: 'X.7.509', reason: 'authfailure' }, // Sending domain does not pass DMARC
  { status: 'X.7.606', reason: 'blocked' }, // Access denied, banned sending IP
  { status: 'X.7.650', reason: 'badreputation' }, // Rate limited due to IP reputation
  { status: 'X.1.351', reason: 'userunknown' }, // Remote server returned unknown recipient
];

/**
 * Basic SMTP reply codes → reason, used only when neither the text nor an enhanced status
 * decides. Codes with several common meanings (550, 554, 451) are left out.
 */
export const REPLY_CODE_REASONS: Readonly<Record<number, BounceReason>> = {
  421: 'systemerror', // Service not available, closing transmission channel
  450: 'systemerror', // Mailbox unavailable (busy, temporarily blocked)
  452: 'systemfull', // Insufficient system storage
  500: 'syntaxerror', // Syntax error, command unrecognized
  501: 'syntaxerror', // Syntax error in parameters or arguments
  502: 'syntaxerror', // Command not implemented
  503: 'syntaxerror', // Bad sequence of commands
  504: 'syntaxerror', // Command parameter not implemented
  551: 'hasmoved', // User not local; please try <forward-path>
  552: 'mailboxfull', // Exceeded storage allocation
  553: 'userunknown', // Mailbox name not allowed (syntax)
  556: 'notaccept', // Domain does not accept mail (RFC 7504)
};

/**
 * A reply code read together with what the reply talks about, for a reply whose words name no
 * cause and whose status is missing or "other or undefined" (X.0.0): RFC 5321 550 is "mailbox
 * unavailable" and 553 "mailbox name not allowed", so a 550/553 about a mailbox, user or
 * recipient says that mailbox cannot be had; 552 is "exceeded storage allocation" when it is
 * about a mailbox, but RFC 1870 (SIZE) gives the same 552 to a message over the size limit.
 */
export const REPLY_CODE_WORDS: readonly { readonly code: number; readonly words: RegExp; readonly reason: BounceReason }[] = [
  { code: 552, words: /\b(?:mail ?box|quota|storage|inbox|folder)\b/, reason: 'mailboxfull' }, // RFC 5321 552 "exceeded storage allocation", said of a mailbox
  { code: 552, words: /\b(?:message|size|bytes|too (?:big|large))\b/, reason: 'mesgtoobig' }, // RFC 1870 §6: 552 for a message over the SIZE limit
  { code: 550, words: /\b(?:mail ?box|user|recipient|addressee|account|address|local[- ]part|rcpt)\b/, reason: 'userunknown' }, // RFC 5321 §4.2.3 550 "mailbox unavailable (e.g., mailbox not found, no access …)"
  { code: 553, words: /\b(?:mail ?box|user|recipient|addressee|account|address)\b/, reason: 'userunknown' }, // RFC 5321 553 "mailbox name not allowed"
];

/** Reasons that mean the address itself is bad: resending to it will fail again. */
export const HARD_REASONS: ReadonlySet<BounceReason> = new Set<BounceReason>([
  'userunknown', // the mailbox does not exist
  'hostunknown', // the domain does not exist
  'hasmoved', // the owner has moved away
  'notaccept', // the domain accepts no mail (null MX) — hard when permanent (5xx)
]);

/** Senders whose messages are delivery reports (local part or display name). */
export const BOUNCE_SENDERS: RegExp =
  /^(?:mailer-daemon|post_?master|mail(?:er)?[-. ]?(?:delivery|daemon)|mdaemon|mail\.delivery\.system|mailadmin|mail[- ]?system|smtp-?gateway|bounce[sd]?|nobody|no-?reply-?dsn|microsoftexchange[0-9a-f]*|(?:system )?administrator|internet mail delivery|mail delivery (?:subsystem|system|service)|postoffice)\b/i;

/** Subjects of delivery reports in the languages bounces arrive in. */
export const BOUNCE_SUBJECTS: RegExp =
  /undeliver|undelivered|not (?:be )?delivered|failed mail|delivery (?:status|failure|notification|failed|has failed|problem|report|error|incomplete)|delivery notification|returned (?:mail|to sender)|failure notice|failed delivery|mail delivery|mail (?:system )?error|non[- ]?delivery|could not (?:be )?deliver|warning: (?:could not|message)|delayed mail|message (?:delivery )?(?:has )?failed|rejected|bounced?|permanent (?:error|failure)|returned message|notice: mail delivery|unzustellbar|nicht zustellbar|non remis|non recapitabile|no entregado|échec de la remise|не доставлено|返送|配信(?:不能|エラー|失敗|できません)|エラー通知|メールエラー|送信(?:エラー|できません|失敗)|届きませんでした|エラーメール|メッセージを配信できません|未送達/i;

/**
 * Sentences with which notices say that mail was not delivered, in the languages they arrive in:
 * how a text without headers (pasted from a mail program) is recognised as a delivery report.
 */
export const FAILURE_STATEMENTS: RegExp =
  /could(?: not|n'?t) (?:be )?deliver|(?:was|were|has been|have been) not (?:be(?:en)? )?delivered|(?:did not|didn'?t|could not|couldn'?t) reach|(?:unable|failed) to deliver|delivery (?:to .{1,80} )?(?:has )?failed|delivery failure|undeliverable|returned mail|permanent (?:fatal )?errors?|error was detected while processing|not (?:be )?delivered|n'a pas (?:pu )?[êe]tre (?:d[ée]livr|remis|distribu)|non remis|(?:nicht|konnte nicht) zugestellt|unzustellbar|non (?:[èe] stato |pu[òo] essere )?(?:recapitat|consegnat)|mancata consegna|no (?:se )?(?:ha )?(?:podido|pudo) (?:ser )?entregar|no (?:pudo|puede) ser entregado|n[ãa]o (?:p[ôo]de|foi|pode) (?:ser )?entregue|не (?:может быть |был[оа]? |удалось )?достав|недостав|无法(?:投递|送达|发送|递送)|未能(?:成功)?(?:发送|投递|送达)|投递失败|发送失败|無法(?:傳送|投遞|寄送)|傳送失敗|退信|配信(?:できません|に失敗|エラー)|配送(?:できません|されませんでした|に失敗)|届きませんでした|送信できませんでした|宛先不明/i;

/** Subjects of warnings that delivery is delayed and still being retried. */
export const DELAY_SUBJECTS: RegExp = /\bdelay(?:ed)?\b|warning: could not send|delivery status notification \(delay\)|still being retried|配信遅延/i;

/** Sentences of such warnings inside a text bounce. */
export const DELAY_TEXT: RegExp = /this is a warning message only|will be retried for|has not yet been delivered|delivery attempts will continue|no action is required on your part/i;

/** Subjects of automatic replies (RFC 3834 "auto-replied" mail without the header, too). */
export const AUTO_REPLY_SUBJECTS: RegExp =
  /^(?:auto(?:matic)?[ -]?(?:reply|response|answer|antwort|réponse|reponse)|autoreply|out of (?:the )?office|away(?: from| until| on|:)|vacation|on leave|abwesenheit|absence|absent|自動(?:応答|返信)|不在)/i;

/**
 * Lines that start the returned original inside a plain-text bounce (tested against one
 * trimmed line). What follows is the sender's own message, never the bounce's explanation.
 */
export const ORIGINAL_MARKERS: readonly RegExp[] = [
  /^-*\s*original message:?\s*-*$/i, // Gmail "----- Original message -----", Verizon "Original Message:"
  /^-*\s*(?:the )?original message (?:follows|headers? follows?|is attached)\.?\s*-*$/i, // IMail, Post.Office
  /^-*\s*original message headers?:?\s*-*$/i, // Exchange "Original message headers:"
  /^-*\s*this is a copy of the message, including all the headers/i, // Exim
  /^-*\s*below this line is a copy of the message/i, // qmail, Yahoo
  /^-*\s*below is a copy of the original message/i, // OpenSMTPD
  /^-*\s*message headers follow/i, // DragonFly
  /^-*\s*included is a copy of the message header/i, // MXLogic
  /^-*\s*(?:returned|unsent|undelivered) message(?: below| follows)?\s*-*:?$/i, // Lotus Notes "------- Returned Message --------", Sendmail V5 "----- Unsent message follows -----"
  /^-*\s*(?:the )?headers? of (?:the )?original (?:message|mail)/i, // Japanese ISPs translated
  /^-*\s*content-type: message\/rfc822/i, // a multipart whose boundaries were lost
  /^-*\s*original message follows\.?/i, // "--- Original message follows."
  /^\*+\s*original message\s*\*+$/i, // "***** Original message *****"
  /^-*\s*(?:元のメッセージ|送信したメッセージ|元メール)/, // Japanese: "the original message"
  /^-*\s*(?:the )?original message(?: follows)?\s*:\s*-*$/i, // a heading "The original message:" / "Original message follows:" above the quoted message
  /^-*\s*-+\s*original message headers\s*-+\s*$/i, // gateways returning the headers only
  /^-*\s*(?:start of )?returned (?:mail|message)(?: follows)?\s*-*$/i, // USA.NET "--------RETURNED MAIL FOLLOWS--------", Demon "---- START OF RETURNED MESSAGE ----"
  // A heading line, alone on its line (perhaps between separators), that announces the returned
  // message or its headers: "----- Message header follows -----" (Sendmail with RET=HDRS, old
  // Gmail), "------ This is a copy of the message's headers. ------" (Exim), "--- Enclosed is a
  // copy of the message." (qmail forks), "|---- Message text follows: ----|" (Sun, Oracle),
  // "Intestazioni originali del messaggio:" (Exchange in Italian). Never a sentence that goes on
  // ("The original message was received at …", "… the attached returned message.").
  /^[-=*_#~|<>\s]*(?:(?:this is |here is |below (?:this line )?is |enclosed is |attached is |included is )?an? ?copy of (?:the |your )?(?:original |returned |undelivered )?(?:message|mail|e-?mail)(?:'s)?(?: headers?| body| text)?(?:,[^.]{0,60})?|(?:the )?(?:original|returned|unsent|undelivered|non-?delivered) (?:message|mail|e-?mail)(?:'s)?(?: headers?| header lines| text| body| content)?(?: (?:follows?|below|is (?:below|attached|included|enclosed)|as follows))?|(?:the )?message (?:headers?|text|body) (?:follows?|below)|(?:the )?headers? of (?:the |your )?(?:original|returned|undelivered|source) (?:message|mail)(?: (?:follows?|below|attached|included))?)[\s.:!]*[-=*_#~|<>\s]*$/i,
  // The same headings in the languages notices arrive in (alone on their line).
  /^[-=*_#~|<>\s]*(?:(?:message|courriel|mail) (?:d'origine|original|initial)|(?:en-t[êe]tes?|ent[êe]tes?) (?:du message )?(?:d'origine|original)|mensaje original|(?:ursprüngliche|original) ?nachricht|originalnachricht|(?:kopfzeilen|header) der (?:ursprünglichen|original)nachricht|messaggio originale|intestazioni originali(?: del messaggio)?|mensagem original|исходное сообщение|оригинальное сообщение|исходное письмо|原始邮件|原邮件|原始郵件|原郵件|原始信件|元のメール|元のメッセージのヘッダ)[\s.:!]*[-=*_#~|<>\s]*$/i,
];

/**
 * Field names of a message's header block, as a returned original (or an echo of it) writes
 * them: the trace fields, the authentication results and signatures, the originator and
 * destination fields, MIME fields, the common extensions. Delivery-status fields (Final-
 * Recipient, Status, Diagnostic-Code, …) are not among them: they are a report's evidence.
 */
export const MESSAGE_HEADER_NAMES: RegExp =
  /^(?:received|return-path|dkim-signature|domainkey-signature|x-google-dkim-signature|authentication-results|arc-seal|arc-message-signature|arc-authentication-results|received-spf|message-id|mime-version|content-type|content-transfer-encoding|content-disposition|content-language|subject|from|to|cc|bcc|date|sent|reply-to|sender|references|in-reply-to|delivered-to|x-original-to|envelope-to|list-[a-z-]+|thread-topic|thread-index|importance|priority|x-priority|user-agent|x-mailer|organization|disposition-notification-to|x-received|x-gm-message-state|x-google-smtp-source|x-ms-[a-z0-9-]+|x-microsoft-[a-z0-9-]+|x-forefront-[a-z0-9-]+|x-originating-ip|x-spam-[a-z0-9-]+|x-virus-[a-z0-9-]+|x-originalarrivaltime|feedback-id|precedence|auto-submitted)$/i;

/**
 * The fields that only a message that travelled carries (trace, signatures, authentication
 * results): a block of header lines with one of them is a returned original, not an echo of
 * its subject and date in a notice.
 */
export const TRACE_HEADER_NAMES: RegExp =
  /^(?:received|return-path|dkim-signature|domainkey-signature|x-google-dkim-signature|authentication-results|arc-seal|arc-message-signature|arc-authentication-results|received-spf|x-received|x-gm-message-state|x-google-smtp-source|delivered-to|x-originalarrivaltime)$/i;

/** Amazon SES `bounceSubType` values that name a reason (used when no SMTP reply came with them). */
export const SES_BOUNCE_SUBTYPES: Readonly<Record<string, BounceReason>> = {
  NoEmail: 'userunknown', // the address does not exist
  MailboxFull: 'mailboxfull', // the recipient's mailbox is full
  MessageTooLarge: 'mesgtoobig', // the message exceeded the receiver's size limit
  ContentRejected: 'contenterror', // the receiver refused the content
  AttachmentRejected: 'contenterror', // the receiver refused an attachment
};

/**
 * PowerMTA writes its own verdict on each failed recipient into the DSN
 * (`X-PowerMTA-BounceCategory`), from its maintained rules for the big receivers' replies. The
 * categories that name one cause map to a reason; the vague ones (`other`, `bad-connection`,
 * `policy-related`, …) are left to the text.
 */
export const POWERMTA_CATEGORIES: Readonly<Record<string, BounceReason>> = {
  'bad-mailbox': 'userunknown', // the mailbox does not exist
  'bad-domain': 'hostunknown', // the domain does not exist
  'inactive-mailbox': 'suspend', // the mailbox exists but is disabled
  'quota-issues': 'mailboxfull', // the mailbox is over its quota
  'message-expired': 'expired', // PowerMTA's queue gave up
  'spam-related': 'spamdetected', // refused as spam
  'virus-related': 'virusdetected', // refused for a virus
  'relaying-issues': 'norelaying', // the receiver refused to relay
};

/**
 * How a known reporter words refusals, recognized from the report itself (tested against its
 * top-level header lines, the Reporting-MTA and the start of its explanation text). A row rewrites a reason read from the text
 * into what that reporter's wording means, unless the text itself shows the refusal came at
 * RCPT TO (where a "user unknown" really judges the mailbox).
 */
export interface ReporterConvention {
  readonly name: string;
  readonly signature: RegExp;
  readonly from: readonly BounceReason[];
  readonly to: BounceReason;
  /** Also overrides a reason a status code decided (the reporter writes its own codes). */
  readonly overStatus?: boolean;
  /** Only when the report quotes no enhanced status code: with one, the remote server's meaning is known. */
  readonly withoutStatus?: boolean;
}

export const REPORTER_CONVENTIONS: readonly ReporterConvention[] = [
  // Filtering gateways and services (Active!Hunter, MailFoundry, MXLogic, SurfControl) stand in
  // front of the real mailbox server: their "user unknown" notices relay a refusal without the
  // remote reply or its stage, so the refusal is the filtering path's, not proof of a missing mailbox.
  { name: 'Active!Hunter', signature: /^x-ahmailid:|active!hunter/im, from: ['userunknown'], to: 'filtered', withoutStatus: true },
  { name: 'MailFoundry', signature: /^received: .*\(mailfoundry\)/im, from: ['userunknown'], to: 'filtered' },
  { name: 'MXLogic', signature: /^(?:from|message-id|received): .*\bmxlogic\.net\b/im, from: ['userunknown'], to: 'filtered' },
  { name: 'SurfControl', signature: /^x-mailer: surfcontrol/im, from: ['userunknown'], to: 'filtered' },
  // Mail2000 relays summarize a refusal under "---The following addresses had delivery errors---"
  // as "addr [User unknown]", with no reply code or stage.
  { name: 'Mail2000', signature: /^-+the following addresses had delivery errors-+\s*$/im, from: ['userunknown'], to: 'filtered' },
  // Yahoo!-style relays ("Message from <domain>. Unable to deliver message to the following
  // address(es).") write their own one-line verdict per address, with no reply code or stage.
  { name: 'Unable-to-deliver relay', signature: /^message from [a-z0-9.-]+\.\s*\nunable to deliver message to the following address\(es\)\./im, from: ['userunknown'], to: 'filtered' },
  // Exchange's Internet Mail Connector ("MSEXCH:IMC:") relays a refusal by the remote SMTP server
  // without its reply; the local directory's own "not recognized" notices come from IMS instead.
  { name: 'Exchange IMC', signature: /^x-mailer: +microsoft exchange server internet mail connector/im, from: ['userunknown'], to: 'filtered' },
  // Zoho's relay labels every refused recipient "Invalid Address" and quotes the remote reply
  // without its stage: without more, the address is not shown to be missing.
  { name: 'Zoho Mail', signature: /^x-mailer: zoho mail/im, from: ['userunknown'], to: 'filtered' },
  // Apache James (e.g. carrier SMS gateways): "Invalid user address" notices written by the
  // gateway for any address its delivery rules refuse.
  { name: 'Apache James', signature: /^message-id: <[^>]*javamail/im, from: ['userunknown'], to: 'filtered' },
  // au/EZweb writes "Each of the following recipients was rejected by a remote mail server." with
  // no reply when the recipient's reception filter (domain or address filter) refused the mail.
  { name: 'au EZweb', signature: /each of the following recipients was rejected by a remote mail server/i, from: ['onhold', 'undefined'], to: 'filtered' },
  // Amazon SES receiving has no mailboxes: "Mailbox does not exist" means no receipt rule of the
  // receiving account accepts the address, a refusal by its configuration.
  { name: 'Amazon SES receiving', signature: /^reporting-mta: dns; ?inbound-smtp\.[a-z0-9-]+\.amazonaws\.com/im, from: ['userunknown'], to: 'filtered', overStatus: true },
];

/**
 * A verdict a reporter writes in its own words above the reply it relays: the system that
 * refused knew the cause, while the reply it passes on is often a generic "user unknown".
 * Tested against the explanation text (its start); a match decides for every recipient of the
 * report, over the relayed reply's text and status.
 */
export interface ReporterVerdict {
  readonly name: string;
  readonly pattern: RegExp;
  readonly reason: BounceReason;
}

export const REPORTER_VERDICTS: readonly ReporterVerdict[] = [
  // au (KDDI) heads its notice with a one-line verdict; for a suspended line it says the account
  // is disabled, while the relayed RCPT reply only says "550 user unknown".
  { name: 'au EZweb', pattern: /^the user\(s\) account is disabled\.?\s*$/im, reason: 'suspend' },
  // Dovecot's LDA/LMTP rejection notice ("Your message to <rcpt> was automatically rejected:"
  // and its reason on the next line): "Not enough disk space" is Dovecot's error string for a
  // mailbox over its quota, and "Quota exceeded" the start of its default quota message.
  { name: 'Dovecot', pattern: /^your message to <[^>\n]*> was automatically rejected:\s*\n\s*(?:not enough disk space|quota exceeded)/im, reason: 'mailboxfull' },
];

/**
 * How a known receiving system words a refusal, recognized from the host that gave the reply
 * (the DSN's Remote-MTA, or the host a text bounce names) or from the recipient's domain when
 * only that system receives for it: a reason read from its words means something else when it
 * comes from that system, at that SMTP stage (null: the report does not say).
 */
export interface RemoteHostConvention {
  readonly name: string;
  readonly host: RegExp;
  readonly domain?: RegExp;
  readonly command: SmtpCommand | null;
  readonly from: readonly BounceReason[];
  readonly to: BounceReason;
  /** Not when the reporting MTA's status says otherwise (e.g. a mailbox status, X.2.x). */
  readonly unlessStatus?: RegExp;
}

// NTT docomo answers "550 Unknown user" both for an address that does not exist and when the
// recipient's reception settings (designated or refused sender domains, the spam filter) turn the
// mail away, which its MX decides after DATA, once it has seen the sender and the message.
const DOCOMO_MX = /(?:^|\.)docomo\.ne\.jp\.?$/i;
const DOCOMO_DOMAIN = /^docomo\.ne\.jp$/i;

export const REMOTE_HOST_CONVENTIONS: readonly RemoteHostConvention[] = [
  // After DATA, under no mailbox status: the reception settings refused this sender. A reporting
  // MTA that filed it under a mailbox status (X.2.x) judged it the mailbox's filter (`filtered`,
  // the after-DATA reading of the words), and that reading stays.
  { name: 'NTT docomo', host: DOCOMO_MX, command: 'DATA', from: ['filtered'], to: 'rejected', unlessStatus: /^\d\.2\./ },
  // With the stage unknown the words do not show the address is missing: the filter's reading.
  { name: 'NTT docomo', host: DOCOMO_MX, domain: DOCOMO_DOMAIN, command: null, from: ['userunknown'], to: 'filtered' },
];

/**
 * Notices a mailing-list manager (fml, recognized by its `X-MLServer` header) sends back instead
 * of distributing a post. The first group of each pattern is the list address, which is the
 * recipient that refused the post.
 */
export const LIST_MANAGER_NOTICES: readonly { readonly pattern: RegExp; readonly reason: BounceReason }[] = [
  { pattern: /not a member of this mailing list <([^<>\s]+@[^<>\s]+)>/i, reason: 'rejected' }, // the list takes posts from members only: the sender was refused
  { pattern: /duplicated message-id in <([^<>\s]+@[^<>\s]+)>/i, reason: 'systemerror' }, // loop alert: the list saw this Message-ID before and stopped the mail
];

/**
 * Subjects of read receipts sent without an RFC 8098 report (some clients write only a text):
 * the message was displayed. Tested against the whole subject.
 */
export const READ_SUBJECTS: RegExp = /^\s*(?:read|read receipt|return receipt|gelesen|lu|le[ií]do|letto|lido|l[äa]st|gelezen|прочитано|已读|已讀|開封済み|開封確認)\s*:|^\s*return receipt\b/i;

/** Subjects of receipts that say the message was deleted without being read. */
export const NOT_READ_SUBJECTS: RegExp = /^\s*(?:not read|nicht gelesen|non lu|no le[ií]do|non letto|n[ãa]o lido|не прочитано|未読|未開封)\s*:/i;

/**
 * Sentences of challenge-response requests: the recipient's system holds the message until the
 * sender confirms being a person (TMDA, Spam Arrest, Boxbe, Mailinblack, ChoiceMail, EarthLink
 * spamBlocker and the like). Tested against the explanation (not the returned message).
 */
export const CHALLENGE_TEXT: RegExp =
  /\b(?:confirm|verify|prove[dn]?|show)\b[^.]{0,40}?\b(?:you|they|the sender)(?:'re| are| is)? (?:a |an )?(?:real |live |genuine |actual )*(?:person|people|human(?: beings?)?|humans)\b|\b(?:confirm|verify|prove[dn]?|show)\b[^.]{0,60}?\bnot (?:a )?(?:spam ?)?(?:robots?|bots?|spammers?|machines?)\b|\b(?:held|kept|quarantined|parked)\b[^.]{0,80}?\b(?:until you (?:confirm|verify|reply|respond|click|prove|complete)|(?:pending|awaiting) (?:your|the sender'?s?) (?:confirmation|verification|reply|response)|because (?:your|the sender'?s?) (?:e-?mail )?address\b[^.]{0,60}?\bnot (?:yet )?(?:been )?(?:verified|confirmed|recogni[sz]ed))|to release (?:your|the|this) (?:message|e-?mail|mail)(?: for delivery)?,? (?:please )?(?:reply|click|send|visit|confirm|verify|follow|go to|answer)|list of (?:approved|authori[sz]ed|allowed|accepted|known|trusted) senders|approved senders? list|challenge[- ]response|\bspam ?arrest\b|\btmda\b|\bboxbe\b|mailinblack|choicemail|spamblocker|vous n'[êe]tes pas un robot|(?:message|courriel|e-?mail) (?:est )?en attente (?:de|d'une) (?:validation|confirmation)|best[äa]tigen sie,? dass sie (?:ein mensch|kein roboter)/i;

/** Subjects of challenge-response requests (from a sender that is not a mail system). */
export const CHALLENGE_SUBJECTS: RegExp = /^\s*(?:\[[^\]]{1,40}\]\s*)?(?:please )?(?:confirm|verify) (?:your (?:message|e-?mail|mail)\b(?! address)|that you are|you are (?:a )?(?:person|human))|(?:sender|e-?mail) verification (?:required|request|needed)|(?:awaiting|pending|requires?) (?:your )?(?:verification|confirmation)|guest ?list (?:request|approval)|approved senders/i;

/** Subjects of complaint reports that come without an RFC 5965 feedback-report part. */
export const FEEDBACK_SUBJECTS: RegExp = /^(?:complaint about message from|abuse report|spam report|feedback loop|fbl report)/i;

/** Subjects of opt-out requests mail clients send on the user's behalf (List-Unsubscribe by mail). */
export const UNSUBSCRIBE_SUBJECTS: RegExp = /^unsubscribe$/i;

/** The SMTP command a remote server was answering when it refused. */
export type SmtpCommand = 'CONN' | 'HELO' | 'MAIL' | 'RCPT' | 'DATA';

/** A command row: a reason read from the text means something else when the refusal came at `command`. */
export interface CommandRow {
  readonly command: SmtpCommand;
  readonly from: readonly BounceReason[];
  readonly to: BounceReason;
  /** Only when the text was a generic wrapper ("Access denied", "Service unavailable"). */
  readonly wrapperOnly?: boolean;
}

/** What the stage of the SMTP dialogue says about a refusal. */
export const COMMAND_RULES: readonly CommandRow[] = [
  // Refused at MAIL FROM, before any recipient was named: it is the sender that was refused.
  { command: 'MAIL', from: ['userunknown', 'hostunknown', 'undefined', 'filtered'], to: 'rejected' },
  // A bare "Access denied" in answer to MAIL FROM refuses the sender, not a
  // security requirement (those are worded: "authentication required", "must issue STARTTLS").
  { command: 'MAIL', from: ['securityerror'], to: 'rejected', wrapperOnly: true },
  // Refused before any envelope: the connecting host itself was turned away.
  { command: 'CONN', from: ['userunknown', 'hostunknown', 'undefined', 'rejected', 'systemerror', 'securityerror'], to: 'blocked' },
  { command: 'HELO', from: ['userunknown', 'hostunknown', 'undefined', 'rejected'], to: 'blocked' },
];
