package account

import (
	"context"
	"fmt"
	"time"
)

// Mailer delivers one plain-text e-mail. Implementations live in internal/mail: SMTP for
// production and a log mailer for development without SMTP.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// The mails are Korean first with an English line below, plain text.

func verificationMail(nickname, link string, ttl time.Duration) (subject, body string) {
	subject = "[Freely] 이메일 주소를 확인해 주세요 / Confirm your e-mail address"
	body = fmt.Sprintf(`%s님, Freely에 가입해 주셔서 감사합니다.
아래 링크를 열어 이메일 주소를 확인해 주세요. 확인 후 방송과 채팅을 할 수 있습니다.

%s

이 링크는 %s 동안 한 번만 사용할 수 있습니다. 가입한 적이 없다면 이 메일을 무시하세요.

Thanks for signing up to Freely, %s. Open the link above within %s to confirm your address; then you can stream and chat. If you did not sign up, ignore this mail.
`, nickname, link, koDuration(ttl), nickname, enDuration(ttl))
	return subject, body
}

func resetMail(nickname, link string, ttl time.Duration) (subject, body string) {
	subject = "[Freely] 비밀번호 재설정 / Reset your password"
	body = fmt.Sprintf(`%s님, 비밀번호 재설정 요청을 받았습니다.
아래 링크에서 새 비밀번호를 정해 주세요. 재설정하면 모든 기기에서 로그아웃됩니다.

%s

이 링크는 %s 동안 한 번만 사용할 수 있습니다. 요청한 적이 없다면 이 메일을 무시하세요. 비밀번호는 바뀌지 않습니다.

Someone asked to reset the password of your Freely account, %s. Open the link above within %s to choose a new one (this logs you out everywhere). If it was not you, ignore this mail; your password stays the same.
`, nickname, link, koDuration(ttl), nickname, enDuration(ttl))
	return subject, body
}

func koDuration(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return fmt.Sprintf("%d시간", d/time.Hour)
	}
	return fmt.Sprintf("%d분", max(1, d/time.Minute))
}

func enDuration(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "1 hour"
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes", max(1, d/time.Minute))
}
